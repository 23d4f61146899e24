"""The DCAT-US 1.1 (Project Open Data) export carries every field the standard requires."""
from __future__ import annotations

import json

import jsonschema
import pytest

from data_inventory import load_inventory

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
