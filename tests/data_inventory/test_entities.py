"""The canonical entities' contract (data_inventory/entities.yaml): the written page agrees with it, and a dataset's
`implements` declaration is checked against it by `citystat inventory validate` (one line per problem)."""
from __future__ import annotations

import re
from pathlib import Path

from data_inventory.entities import load_entities
from data_inventory.loader import validate
from inventory_helpers import dataset

ROOT = Path(__file__).resolve().parents[2]


def documented_columns(section: str) -> dict[str, str]:
    """{column: type} from the contract table that follows `section` in docs/canonical_entities.md."""
    text = (ROOT / "docs" / "canonical_entities.md").read_text()
    table = text[text.index(section):].split("\n\n")[2]
    columns = {}
    for line in table.splitlines()[2:]:
        cells = [c.strip() for c in line.strip("|").split("|")]
        for name in re.findall(r"`(\w+)`", cells[0]):
            columns[name] = cells[1]
    return columns


def test_the_written_311_contract_and_entities_yaml_agree_column_by_column():
    entity = load_entities()["service_request"]
    assert documented_columns("## 311 service requests") == {c.name: c.sql_type for c in entity.columns}
    assert entity.key == "service_request_id" and entity.fact == "fct_service_requests"


def problems(inventory_copy, implements: dict) -> list[str]:
    """The problems `citystat inventory validate` finds once Riverton's 311 requests declare `implements`."""
    path = inventory_copy(lambda data: dataset(data, "crm311", "service_requests").update(implements=implements))
    return [p.message for p in validate(path)]


def test_a_complete_declaration_is_valid(inventory_copy):
    assert problems(inventory_copy, {"entity": "service_request", "columns": {
        "service_request_id": "service_request_id", "requested_at": "requested_datetime", "status": "status",
        "status_notes": "status_notes"}}) == []


def test_each_wrong_declaration_is_named(inventory_copy):
    assert any("names entity 'pothole'" in p for p in problems(inventory_copy, {"entity": "pothole", "columns": {}}))
    found = problems(inventory_copy, {"entity": "service_request", "columns": {
        "service_request_id": "service_request_id", "requested_at": "requested_datetime", "status": "state",
        "colour": "status", "address": "phone", "service_name": "description", "description": "description"}})
    assert any("maps 'status' to 'state', which is not a declared field" in p for p in found)
    assert any("'colour' is not a column of service_request" in p for p in found)
    assert any("maps 'address' to 'phone', marked pii" in p for p in found)
    assert any("maps 'service_name' to 'description', marked sensitive" in p for p in found)
    assert not any("'description' to" in p for p in found)  # into the redacted free-text column: allowed
    missing = problems(inventory_copy, {"entity": "service_request", "columns": {"service_request_id": "service_request_id"}})
    assert any("the required column 'requested_at' of service_request is not mapped" in p for p in missing)
    assert any("the required column 'status' of service_request is not mapped" in p for p in missing)
    assert not any("department_code" in p for p in missing)  # defaults to the dataset's department
    both = problems(inventory_copy, {"entity": "service_request", "staging_model": "stg_crm311__service_requests",
                                     "columns": {"service_request_id": "service_request_id"}})
    assert any("give columns or staging_model, not both" in p for p in both)


def test_a_field_that_cannot_read_as_its_column_and_a_reference_to_no_generated_311_system_are_named(inventory_copy):
    # a drafted column of mixed timestamp formats is a string: mapped to a datetime, every row would be quarantined
    found = problems(inventory_copy, {"entity": "service_request", "columns": {
        "service_request_id": "service_request_id", "requested_at": "status", "status": "status"}})
    assert any("maps 'requested_at' (datetime) to 'status', a string field: declare the field's type and format" in p for p in found)
    assert not any("'service_request_id' (" in p for p in found)  # any field reads as a string column

    def with_work_orders(implements: dict) -> list[str]:
        def change(data):
            dataset(data, "crm311", "service_requests").update(implements={"entity": "service_request", "columns": {
                "service_request_id": "service_request_id", "requested_at": "requested_datetime", "status": "status"}})
            dataset(data, "pw_mms", "work_orders").update(implements=implements)
        return [p.message for p in validate(inventory_copy(change))]

    columns = {"work_order_id": "work_order_id", "service_request_id": "service_request_id", "status": "status",
               "created_at": "created_at"}
    assert not [p for p in with_work_orders({"entity": "work_order", "columns": columns,
                                              "references": {"service_request_id": "crm311"}}) if "references" in p]
    wrong = with_work_orders({"entity": "work_order", "columns": columns,
                              "references": {"service_request_id": "fire_cad", "crew_id": "crm311"}})
    assert any("names system 'fire_cad', which implements no service_request with generated staging" in p for p in wrong)
    assert any("'crew_id' is not a column of work_order that holds another entity's key" in p for p in wrong)
