"""Every class of invalid inventory gets a clear problem naming the entry (by ids) and the field.

Each case mutates a copy of the real inventory, writes it to tmp_path and validates that file.
"""
from __future__ import annotations

import pytest

from inventory_helpers import dataset, department, field, system
from data_inventory import InventoryError, load_inventory, validate

WORK_ORDERS = "departments[pw].systems[pw_mms].datasets[work_orders]"
REQUESTS = "departments[cs].systems[crm311].datasets[service_requests]"


def only(problems, entry, field_name):
    matching = [p for p in problems if p.entry == entry and p.field == field_name]
    assert matching, f"no problem at {entry} {field_name}; got:\n" + "\n".join(map(str, problems))
    return matching[0]


def test_bad_enum_names_entry_field_and_allowed_values(inventory_copy):
    path = inventory_copy(lambda d: dataset(d, "pw_mms", "work_orders").update({"cadence": "fortnightly"}))
    problem = only(validate(path), WORK_ORDERS, "cadence")
    assert problem.message.startswith("'fortnightly' is not one of realtime, hourly, daily")
    assert problem.line and "cadence: fortnightly" in path.read_text().splitlines()[problem.line - 1]


def test_unknown_connector(inventory_copy):
    path = inventory_copy(lambda d: dataset(d, "pw_mms", "work_orders").update({"connector": "ftp"}))
    problem = only(validate(path), WORK_ORDERS, "connector")
    assert problem.message == "'ftp' is not one of open311, soda, sqlite, postgres, csv_drop, xlsx_drop, manual_submission, none"


def test_missing_owner(inventory_copy):
    path = inventory_copy(lambda d: dataset(d, "crm311", "service_requests").pop("owner"))
    assert only(validate(path), REQUESTS, "owner").message == "is required but missing"


def test_owner_with_invalid_email(inventory_copy):
    path = inventory_copy(lambda d: dataset(d, "crm311", "service_requests")["owner"].update({"email": "maya at city hall"}))
    assert "is not a valid e-mail address" in only(validate(path), REQUESTS, "owner.email").message


def test_missing_steward_and_department_contact(inventory_copy):
    def mutate(d):
        dataset(d, "fire_cad", "stations").pop("steward")
        department(d, "lib").pop("contact")

    problems = validate(inventory_copy(mutate))
    only(problems, "departments[fire].systems[fire_cad].datasets[stations]", "steward")
    only(problems, "departments[lib]", "contact")


def test_duplicate_dataset_id_within_a_system(inventory_copy):
    def mutate(d):
        dataset(d, "pw_mms", "crews")["id"] = "work_orders"

    problem = only(validate(inventory_copy(mutate)), WORK_ORDERS, "id")
    assert "duplicate dataset id in system 'pw_mms' 'work_orders' (first declared on line" in problem.message


def test_duplicate_system_id_across_departments(inventory_copy):
    path = inventory_copy(lambda d: system(d, "fire_cad").update({"id": "pw_mms"}))
    problem = only(validate(path), "departments[fire].systems[pw_mms]", "id")
    assert "duplicate system id (unique citywide) 'pw_mms'" in problem.message


def test_duplicate_department_and_field(inventory_copy):
    def mutate(d):
        department(d, "law")["id"] = "pol"
        field(d, "pw_mms", "crews", "crew_name")["name"] = "crew_id"

    problems = validate(inventory_copy(mutate))
    assert "duplicate department id 'pol'" in only(problems, "departments[pol]", "id").message
    assert "duplicate field name 'crew_id'" in only(problems, "departments[pw].systems[pw_mms].datasets[crews].fields[crew_id]", "name").message


@pytest.mark.parametrize("bad_id", ["Work-Orders", "2fast", "work orders", "x" * 64])
def test_dataset_id_that_is_not_a_safe_identifier(inventory_copy, bad_id):
    path = inventory_copy(lambda d: dataset(d, "pw_mms", "work_orders").update({"id": bad_id}))
    problem = only(validate(path), f"departments[pw].systems[pw_mms].datasets[{bad_id}]", "id")
    assert "safe SQL identifier" in problem.message or "is too long" in problem.message


def test_sql_reserved_words_are_rejected_for_fields_systems_and_datasets(inventory_copy):
    def mutate(d):
        field(d, "pw_mms", "work_orders", "status")["name"] = "select"
        dataset(d, "fire_cad", "stations")["id"] = "order"
        system(d, "hs_centres")["id"] = "table"

    problems = validate(inventory_copy(mutate))
    assert "'select' is a SQL reserved word" in only(problems, f"{WORK_ORDERS}.fields[select]", "name").message
    only(problems, "departments[fire].systems[fire_cad].datasets[order]", "id")
    only(problems, "departments[hs].systems[table]", "id")


def test_protocol_names_are_only_allowed_for_their_protocol(inventory_copy):
    """Open311's `group` and SODA's `:id` are kept for their connectors, and rejected elsewhere."""
    assert validate(inventory_copy()) == []

    def mutate(d):
        field(d, "pw_mms", "work_orders", "asset_id")["name"] = "group"
        field(d, "pw_mms", "work_orders", "crew_id")["name"] = ":id"

    problems = validate(inventory_copy(mutate))
    assert "SQL reserved word" in only(problems, f"{WORK_ORDERS}.fields[group]", "name").message
    assert "only SODA datasets" in only(problems, f"{WORK_ORDERS}.fields[:id]", "name").message


@pytest.mark.parametrize(
    "location_value",
    [
        "postgresql://mms_reader:S3cret!@db.riverton.gov/mms",
        "https://data.riverton.gov/resource?$$app_token=abc123",
        "Driver={SQL Server};Server=mms01;Password=hunter2",
        "sqlite:///mms.sqlite?token=abc",
    ],
)
def test_location_that_embeds_credentials(inventory_copy, location_value):
    path = inventory_copy(lambda d: dataset(d, "pw_mms", "work_orders")["location"].update({"default": location_value}))
    problem = only(validate(path), WORK_ORDERS, "location.default")
    assert "embeds credentials" in problem.message
    assert location_value not in problem.message, "the secret itself must not be echoed"


def test_location_with_only_a_user_name_or_env_is_fine(inventory_copy):
    path = inventory_copy(lambda d: dataset(d, "pw_mms", "work_orders")["location"].update({"default": "postgresql://mms_reader@db.riverton.gov/mms"}))
    assert validate(path) == []


def test_primary_key_and_cursor_must_name_declared_fields(inventory_copy):
    def mutate(d):
        dataset(d, "pw_mms", "work_orders")["primary_key"] = ["wo_number"]
        dataset(d, "pw_mms", "work_orders")["cursor_field"] = "last_modified"

    problems = validate(inventory_copy(mutate))
    assert only(problems, WORK_ORDERS, "primary_key[0]").message == "names 'wo_number', which is not a declared field"
    assert only(problems, WORK_ORDERS, "cursor_field").message == "names 'last_modified', which is not a declared field"


def test_primary_key_field_must_be_required(inventory_copy):
    path = inventory_copy(lambda d: field(d, "pw_mms", "work_orders", "work_order_id").pop("required"))
    assert "must be required: true" in only(validate(path), WORK_ORDERS, "primary_key[0]").message


def test_automated_dataset_needs_a_connector_and_a_location(inventory_copy):
    def mutate(d):
        dataset(d, "pw_mms", "crews")["connector"] = "none"  # still update_method: automated
        dataset(d, "fire_cad", "stations").pop("location")

    problems = validate(inventory_copy(mutate))
    assert "an automated dataset needs a connector" in only(problems, "departments[pw].systems[pw_mms].datasets[crews]", "connector").message
    assert "needs a location" in only(problems, "departments[fire].systems[fire_cad].datasets[stations]", "location").message


def test_connector_specific_source_objects_and_sheets(inventory_copy):
    def mutate(d):
        dataset(d, "proc_portal", "vendors")["source_object"] = "vendors"
        dataset(d, "pw_paving", "paving_reports").pop("sheet")
        dataset(d, "ce_vacant", "cases")["sheet"] = "cases"
        dataset(d, "crm311", "services")["source_object"] = "services.xml"

    problems = validate(inventory_copy(mutate))
    assert "not a SODA resource id" in only(problems, "departments[proc].systems[proc_portal].datasets[vendors]", "source_object").message
    assert "needs the sheet" in only(problems, "departments[pw].systems[pw_paving].datasets[paving_reports]", "sheet").message
    assert "only applies to the xlsx_drop" in only(problems, "departments[ce].systems[ce_vacant].datasets[cases]", "sheet").message
    assert "not an Open311 endpoint" in only(problems, "departments[cs].systems[crm311].datasets[services]", "source_object").message


def test_field_constraints(inventory_copy):
    def mutate(d):
        field(d, "pw_mms", "work_orders", "labor_hours")["allowed_values"] = ["1", "2"]
        field(d, "pw_mms", "work_orders", "material_cost").update({"minimum": 10, "maximum": 5})
        field(d, "pw_mms", "work_orders", "crew_id")["minimum"] = 0
        field(d, "pw_mms", "work_orders", "asset_id")["pattern"] = "^(AST"

    problems = validate(inventory_copy(mutate))
    assert "only applies to string fields" in only(problems, f"{WORK_ORDERS}.fields[labor_hours]", "allowed_values").message
    assert only(problems, f"{WORK_ORDERS}.fields[material_cost]", "minimum").message == "minimum 10 is greater than maximum 5"
    assert "only applies to integer and number fields" in only(problems, f"{WORK_ORDERS}.fields[crew_id]", "minimum").message
    assert "not a valid regular expression" in only(problems, f"{WORK_ORDERS}.fields[asset_id]", "pattern").message


def test_bad_field_type_and_unknown_key(inventory_copy):
    def mutate(d):
        field(d, "pw_mms", "work_orders", "labor_hours")["type"] = "float"
        dataset(d, "pw_mms", "work_orders")["conector"] = "sqlite"

    problems = validate(inventory_copy(mutate))
    assert "'float' is not one of string, integer, number" in only(problems, f"{WORK_ORDERS}.fields[labor_hours]", "type").message
    assert only(problems, WORK_ORDERS, "conector").message.startswith("unknown key (allowed here:")


def test_published_dataset_needs_a_url(inventory_copy):
    path = inventory_copy(lambda d: dataset(d, "pw_mms", "work_orders")["publication"].pop("url"))
    assert only(validate(path), WORK_ORDERS, "publication.url").message == "is required but missing"


def test_yaml_syntax_error_reports_file_line(inventory_copy):
    path = inventory_copy()
    lines = path.read_text().splitlines()
    target = next(i for i, line in enumerate(lines) if line.strip().startswith("cadence:"))
    lines[target] = "\t" + lines[target].strip()  # YAML forbids tabs in indentation
    path.write_text("\n".join(lines) + "\n")
    problems = validate(path)
    assert len(problems) == 1
    problem = problems[0]
    assert problem.message.startswith("YAML syntax error:")
    assert problem.line == target + 1
    assert problem.format(path).startswith(f"{path}:{target + 1}: inventory: YAML syntax error")


def test_duplicate_yaml_key_is_reported_not_silently_dropped(inventory_copy):
    path = inventory_copy()
    lines = path.read_text().splitlines()
    target = next(i for i, line in enumerate(lines) if line.strip() == "connector: open311")
    lines.insert(target + 1, lines[target].replace("open311", "soda"))
    path.write_text("\n".join(lines) + "\n")
    problem = only(validate(path), "departments[cs].systems[crm311].datasets[services]", "connector")
    assert problem.message == f"duplicate key (first on line {target + 1}); YAML would keep only the last"
    assert problem.line == target + 2


def test_all_problems_are_reported_at_once_and_load_raises(inventory_copy):
    def mutate(d):
        dataset(d, "pw_mms", "work_orders")["connector"] = "ftp"
        dataset(d, "crm311", "service_requests").pop("owner")
        dataset(d, "fire_cad", "incidents")["primary_key"] = ["nope"]

    path = inventory_copy(mutate)
    with pytest.raises(InventoryError) as raised:
        load_inventory(path)
    fields = {(p.entry.rsplit(".", 1)[-1], p.field) for p in raised.value.problems}
    assert {("datasets[work_orders]", "connector"), ("datasets[service_requests]", "owner"), ("datasets[incidents]", "primary_key[0]")} <= fields
    assert str(path) in str(raised.value)


def test_missing_file_and_wrong_top_level(tmp_path):
    assert "file not found" in validate(tmp_path / "nope.yaml")[0].message
    path = tmp_path / "list.yaml"
    path.write_text("- just\n- a list\n")
    problem = validate(path)[0]
    assert (problem.entry, problem.field) == ("inventory", "")
    assert "must be of type object" in problem.message


def test_inventory_env_variable_selects_another_file(inventory_copy, monkeypatch):
    path = inventory_copy(lambda d: d["city"].update({"name": "Elsewhere"}))
    monkeypatch.setenv("CITYSTAT_INVENTORY", str(path))
    assert load_inventory().city.name == "Elsewhere"
