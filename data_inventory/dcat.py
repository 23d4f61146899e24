"""The inventory as a DCAT-US 1.1 catalog (Project Open Data `data.json`), for the CDO's inventory view
and the open-data portal's harvester."""
from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from data_inventory.model import DatasetRef, Inventory

CONFORMS_TO = "https://project-open-data.cio.gov/v1.1/schema"
CONTEXT = "https://project-open-data.cio.gov/v1.1/schema/catalog.jsonld"
DESCRIBED_BY = "https://project-open-data.cio.gov/v1.1/schema/catalog.json"

# DCAT-US accrualPeriodicity: ISO 8601 repeating durations, or "irregular".
ACCRUAL_PERIODICITY = {
    "realtime": "R/PT1S",  # "continuously updated" in the Project Open Data list
    "hourly": "R/PT1H",
    "daily": "R/P1D",
    "weekly": "R/P1W",
    "monthly": "R/P1M",
    "quarterly": "R/P3M",
    "annually": "R/P1Y",
    "irregular": "irregular",
}

_RIGHTS_MAX = 255  # DCAT-US limit on `rights`


def to_dcat(inventory: "Inventory") -> dict:
    """A `data.json` catalog with one dataset per inventory dataset (published or not: it is an inventory)."""
    return {
        "@context": CONTEXT,
        "@type": "dcat:Catalog",
        "conformsTo": CONFORMS_TO,
        "describedBy": DESCRIBED_BY,
        "dataset": [_dataset(inventory, ref) for ref in inventory.datasets()],
    }


def _dataset(inventory: "Inventory", ref: "DatasetRef") -> dict:
    city = inventory.city.name
    ds = ref.dataset
    keywords = list(dict.fromkeys([*ds.keywords, ref.department.name.lower(), ref.system.name.lower()]))
    entry = {
        "@type": "dcat:Dataset",
        "title": ds.title,
        "description": ds.description,
        "keyword": keywords,
        "modified": inventory.updated,
        "publisher": {
            "@type": "org:Organization",
            "name": ref.department.name,
            "subOrganizationOf": {"@type": "org:Organization", "name": f"City of {city}"},
        },
        "contactPoint": {"@type": "vcard:Contact", "fn": ds.steward.name, "hasEmail": f"mailto:{ds.steward.email}"},
        "identifier": f"{city.lower()}-{ref.system.id}.{ref.dataset.id}",
        "accessLevel": ds.access_level,
        "accrualPeriodicity": ACCRUAL_PERIODICITY[ds.cadence],
    }
    if ds.access_level != "public":
        entry["rights"] = _rights(ref)
    if ds.publication.status == "published" and ds.publication.url:
        entry["distribution"] = [
            {"@type": "dcat:Distribution", "title": f"{ds.title} on the open-data portal", "accessURL": ds.publication.url}
        ]
        entry["landingPage"] = ds.publication.url
    return entry


def _rights(ref: "DatasetRef") -> str:
    """Why access is limited (DCAT-US requires it for restricted public and non-public datasets)."""
    restricted = ref.restricted_fields
    reason = (
        f"Contains personal or sensitive fields ({', '.join(restricted)})"
        if restricted
        else "Internal operational data"
    )
    text = f"{reason}; {ref.dataset.access_level} access. Contact the data steward {ref.dataset.steward.email}."
    if len(text) > _RIGHTS_MAX:
        text = f"Contains {len(restricted)} personal or sensitive fields; {ref.dataset.access_level} access. Contact {ref.dataset.steward.email}."
    return text[:_RIGHTS_MAX]
