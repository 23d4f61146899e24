"""The inventory as a DCAT-US 1.1 catalog (Project Open Data `data.json`), for the CDO's inventory view
and the open-data portal's harvester."""
from __future__ import annotations

from pathlib import Path
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
SCHEMA_DIR = Path(__file__).parent / "schema" / "dcat-us-1.1"
# bureauCode and programCode identify US federal agencies and programmes (OMB A-11): a city has none, so they are
# left out unless `federal_codes` gives them (see validate_catalog for the schema each case is checked against).
FEDERAL_ONLY = ("bureauCode", "programCode")
MEDIA_TYPES = {"csv": ("text/csv", "CSV"), "parquet": ("application/vnd.apache.parquet", "Parquet")}


def to_dcat(inventory: "Inventory", released: list[dict] | None = None, base_url: str = "",
            federal_codes: dict | None = None) -> dict:
    """A `data.json` catalog with one dataset per inventory dataset (published or not: it is an inventory).

    ``released``: the open-data exports released (the ``exports`` of <open_data>/manifest.json); each becomes
    CSV and Parquet distributions (downloadURL under ``base_url``, describedBy its data dictionary), on its
    inventory dataset or, for an aggregate, on a dataset of its own."""
    exports = {e["id"]: e for e in released or [] if e.get("status") == "released"}
    datasets = [_dataset(inventory, ref) for ref in inventory.datasets()]
    for entry, ref in zip(datasets, inventory.datasets()):
        if ref.name in exports:
            entry.setdefault("distribution", []).extend(_distributions(exports.pop(ref.name), base_url))
    for export in exports.values():  # aggregates: published datasets that are not inventory entries
        datasets.append({
            "@type": "dcat:Dataset", "title": export["title"], "description": export["title"],
            "keyword": ["open data", "aggregate"], "modified": inventory.updated,
            "publisher": {"@type": "org:Organization", "name": f"City of {inventory.city.name}"},
            "contactPoint": datasets[0]["contactPoint"] if datasets else {"@type": "vcard:Contact", "fn": "", "hasEmail": ""},
            "identifier": f"{inventory.city.name.lower()}-{export['id']}", "accessLevel": "public",
            "distribution": _distributions(export, base_url),
        })
    for entry in datasets:
        entry.update({k: list(v) for k, v in (federal_codes or {}).items() if k in FEDERAL_ONLY})
    return {
        "@context": CONTEXT,
        "@type": "dcat:Catalog",
        "conformsTo": CONFORMS_TO,
        "describedBy": DESCRIBED_BY,
        "dataset": datasets,
    }


def _distributions(export: dict, base_url: str) -> list[dict]:
    files = export["files"]
    dictionary = f"{base_url}/{files['dictionary']}"
    return [{"@type": "dcat:Distribution", "title": f"{export['title']} ({label})", "downloadURL": f"{base_url}/{files[kind]}",
             "mediaType": media, "format": label, "describedBy": dictionary, "describedByType": "application/json"}
            for kind, (media, label) in MEDIA_TYPES.items() if kind in files]


def validate_catalog(catalog: dict) -> list[str]:
    """Problems of ``catalog`` against the official DCAT-US 1.1 JSON Schema vendored in SCHEMA_DIR (empty: valid).

    A catalog that carries bureauCode/programCode is checked against the federal schema as it is. A city's catalog
    leaves them out, so it is checked twice: against the official non-federal schema as it is, and against the
    federal one with only those two fields dropped from its required list (it still requires keyword and modified).
    """
    federal = any(k in d for d in catalog.get("dataset", []) for k in FEDERAL_ONLY)
    problems = _schema_problems(catalog, "federal-v1.1", drop_required=() if federal else FEDERAL_ONLY)
    if not federal:
        problems += [p for p in _schema_problems(catalog, "non-federal-v1.1") if p not in problems]
    return problems


def _schema_problems(catalog: dict, variant: str, drop_required: tuple[str, ...] = ()) -> list[str]:
    import json

    import jsonschema
    from referencing import Registry, Resource
    from referencing.jsonschema import DRAFT4

    schemas = {p.name: json.loads(p.read_text(encoding="utf-8")) for p in (SCHEMA_DIR / variant).glob("*.json")}
    if drop_required:
        schemas["dataset.json"] = {**schemas["dataset.json"],
                                   "required": [r for r in schemas["dataset.json"]["required"] if r not in drop_required]}
    base = "https://project-open-data.cio.gov/v1.1/schema/"
    registry = Registry().with_resources(
        (base + name, Resource.from_contents(schema, default_specification=DRAFT4))
        for name, schema in schemas.items())
    validator = jsonschema.Draft4Validator(schemas["catalog.json"], registry=registry,
                                           format_checker=jsonschema.Draft4Validator.FORMAT_CHECKER)
    return [f"{'/'.join(map(str, e.absolute_path)) or '(catalog)'}: {e.message}" for e in validator.iter_errors(catalog)]


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
