"""The DCAT-US 1.1 (Project Open Data) export carries every field the standard requires."""
from __future__ import annotations

import hashlib
import json
from pathlib import Path

import jsonschema
import pytest

from data_inventory import load_inventory
from data_inventory.dcat import _schema_problems, to_dcat, validate_catalog

# DCAT-US 1.1's requirements for a non-federal catalog, written out from the standard
# (required: title, description, keyword, modified, publisher, contactPoint, identifier, accessLevel;
# rights when access is not public; distributions need an access or download URL).
DCAT_US_DATASET = {
    "type": "object",
    "required": ["@type", "title", "description", "keyword", "modified", "publisher", "contactPoint", "identifier", "accessLevel"],
    "properties": {
        "@type": {"const": "dcat:Dataset"},
        "title": {"type": "string", "minLength": 1},
        "description": {"type": "string", "minLength": 1},
        "keyword": {"type": "array", "minItems": 1, "items": {"type": "string", "minLength": 1}},
        "modified": {"type": "string", "pattern": r"^\d{4}-\d{2}-\d{2}$"},
        "publisher": {
            "type": "object",
            "required": ["@type", "name"],
            "properties": {"@type": {"const": "org:Organization"}, "name": {"type": "string", "minLength": 1}},
        },
        "contactPoint": {
            "type": "object",
            "required": ["fn", "hasEmail"],
            "properties": {"fn": {"type": "string", "minLength": 1}, "hasEmail": {"type": "string", "pattern": r"^mailto:[^@\s]+@[^@\s]+\.[^@\s]+$"}},
        },
        "identifier": {"type": "string", "minLength": 1},
        "accessLevel": {"enum": ["public", "restricted public", "non-public"]},
        "rights": {"type": "string", "minLength": 1, "maxLength": 255},
        "accrualPeriodicity": {"anyOf": [{"const": "irregular"}, {"type": "string", "pattern": r"^R/P(?:\d+Y)?(?:\d+M)?(?:\d+W)?(?:\d+D)?(?:T(?:\d+H)?(?:\d+M)?(?:\d+S)?)?$"}]},
        "distribution": {
            "type": "array",
            "minItems": 1,
            "items": {
                "type": "object",
                "required": ["@type"],
                "anyOf": [{"required": ["accessURL"]}, {"required": ["downloadURL", "mediaType"]}],
            },
        },
    },
    "if": {"properties": {"accessLevel": {"enum": ["restricted public", "non-public"]}}},
    "then": {"required": ["rights"]},
}
DCAT_US_CATALOG = {
    "type": "object",
    "required": ["conformsTo", "dataset"],
    "properties": {
        "conformsTo": {"const": "https://project-open-data.cio.gov/v1.1/schema"},
        "dataset": {"type": "array", "minItems": 1, "items": DCAT_US_DATASET},
    },
}


@pytest.fixture(scope="module")
def inventory():
    return load_inventory()


@pytest.fixture(scope="module")
def catalog(inventory):
    return json.loads(json.dumps(inventory.to_dcat()))  # must survive JSON as is


def test_catalog_meets_dcat_us_requirements(catalog, inventory):
    errors = [f"{list(e.absolute_path)}: {e.message}" for e in jsonschema.Draft202012Validator(DCAT_US_CATALOG).iter_errors(catalog)]
    assert errors == []
    assert len(catalog["dataset"]) == len(list(inventory.datasets()))
    identifiers = [d["identifier"] for d in catalog["dataset"]]
    assert len(set(identifiers)) == len(identifiers)


def test_dataset_entry_comes_from_its_inventory_entry(catalog):
    by_id = {d["identifier"]: d for d in catalog["dataset"]}
    work_orders = by_id["riverton-pw_mms.work_orders"]
    assert work_orders["title"] == "Public Works work orders"
    assert work_orders["publisher"]["name"] == "Public Works"
    assert work_orders["publisher"]["subOrganizationOf"]["name"] == "City of Riverton"
    assert work_orders["contactPoint"] == {"@type": "vcard:Contact", "fn": "Wei Zhang", "hasEmail": "mailto:wei.zhang@riverton.gov"}
    assert work_orders["accrualPeriodicity"] == "R/P1D"
    assert work_orders["distribution"][0]["accessURL"] == "https://data.riverton.gov/d/pwwo-7k2m"
    assert "public works" in work_orders["keyword"]
    assert by_id["riverton-crm311.service_requests"]["accrualPeriodicity"] == "R/PT1H"
    assert by_id["riverton-perf_office.strategic_goals"]["accrualPeriodicity"] == "irregular"


def test_restricted_datasets_explain_why_without_exposing_data(catalog):
    positions = next(d for d in catalog["dataset"] if d["identifier"] == "riverton-fin_erp.positions")
    assert positions["accessLevel"] == "restricted public"
    assert "employee_name" in positions["rights"]
    assert "distribution" not in positions  # not published yet


SCHEMA_DIR = Path(__file__).resolve().parents[2] / "data_inventory" / "schema" / "dcat-us-1.1"


def test_the_vendored_schema_is_the_official_one_byte_for_byte():
    source = json.loads((SCHEMA_DIR / "SOURCE.json").read_text())
    # named source: Data.gov's data.json harvester as published on PyPI (pinned version and wheel hash)
    assert (source["package"], source["version"], source["registry"]) == ("ckanext-datajson", "0.1.29", "PyPI")
    assert source["wheel_sha256"] == "913ffa362e0dc6f19861e70f95dd85b10a03d368d1948753f4dfafb94948a910"
    vendored = {p.relative_to(SCHEMA_DIR).as_posix() for p in SCHEMA_DIR.rglob("*.json")} - {"SOURCE.json"}
    assert vendored == set(source["files"]) == {"federal-v1.1/catalog.json", "federal-v1.1/dataset.json",
                                                "non-federal-v1.1/catalog.json", "non-federal-v1.1/dataset-non-federal.json"}
    for name, entry in source["files"].items():
        data = (SCHEMA_DIR / name).read_bytes()
        assert hashlib.sha256(data).hexdigest() == entry["sha256"], f"{name} differs from {entry['from']} of the wheel"
        schema = json.loads(data)
        assert schema["$schema"] == "http://json-schema.org/draft-04/schema#"
        assert schema["id"].startswith("https://project-open-data.cio.gov/v1.1/schema/"), name
    federal = json.loads((SCHEMA_DIR / "federal-v1.1" / "dataset.json").read_bytes())
    assert federal["required"][:2] == ["bureauCode", "programCode"]  # the official federal rules, not an edited copy


def test_the_city_catalog_validates_against_the_official_schema(inventory, catalog):
    assert validate_catalog(catalog) == []
    # the only adaptation: a city has no federal codes; given them, the federal schema applies as it is
    assert _schema_problems(catalog, "federal-v1.1")[:1] == ["dataset/0: 'bureauCode' is a required property"]
    federal = json.loads(json.dumps(to_dcat(inventory, federal_codes={"bureauCode": ["015:11"], "programCode": ["015:001"]})))
    assert validate_catalog(federal) == [] and _schema_problems(federal, "federal-v1.1") == []
    broken = json.loads(json.dumps(catalog))
    broken["dataset"][0]["accessLevel"] = "open"
    del broken["dataset"][1]["title"]
    del broken["dataset"][2]["keyword"]  # optional for non-federal publishers, required by the federal rules we keep
    assert validate_catalog(broken) == [
        "dataset/0/accessLevel: 'open' is not one of ['public', 'restricted public', 'non-public']",
        "dataset/1: 'title' is a required property",
        "dataset/2: 'keyword' is a required property",
    ]
