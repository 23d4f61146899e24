"""The shipped inventory is valid and catalogues every demo system exactly as docs/contracts.md says."""
from __future__ import annotations

import pytest

from data_inventory import load_inventory, validate
from demo_city.reference import DEPARTMENTS

# docs/contracts.md: every demo dataset, its connector and its columns in contract order.
# SODA datasets end with the protocol's system fields :id and :updated_at (as the portal stores them).
CONTRACT = {
    ("crm311", "services"): ("open311", "service_code service_name description metadata type keywords group agency_responsible sla_days"),
    ("crm311", "service_requests"): ("open311", "service_request_id status status_notes service_name service_code description agency_responsible service_notice requested_datetime updated_datetime expected_datetime closed_datetime address address_id zipcode lat long media_url first_name last_name phone email"),
    ("pw_mms", "crews"): ("sqlite", "crew_id crew_name district crew_size supervisor_name"),
    ("pw_mms", "assets"): ("sqlite", "asset_id asset_type street_name district lat lon installed_year"),
    ("pw_mms", "work_orders"): ("sqlite", "work_order_id service_request_id asset_id work_type crew_id status created_at scheduled_date completed_at labor_hours material_cost updated_at"),
    ("fire_cad", "stations"): ("sqlite", "station_id station_name district"),
    ("fire_cad", "incidents"): ("sqlite", "incident_id incident_type priority station_id district address alarm_time dispatch_time enroute_time arrival_time cleared_time updated_at"),
    ("ce_vacant", "cases"): ("csv_drop", "case_id property_id parcel_address owner_name owner_phone district opened_date status outcome closure_date evidence_photo_url inspector_id updated_at"),
    ("ce_vacant", "inspections"): ("csv_drop", "inspection_id case_id inspection_date inspector_id violations_found result notes"),
    ("fin_erp", "budget"): ("csv_drop", "fiscal_year department_code program_code program_name fund account adopted_amount revised_amount"),
    ("fin_erp", "expenditures"): ("csv_drop", "ledger_id posting_date fiscal_year fiscal_period department_code program_code fund account vendor_id amount description"),
    ("fin_erp", "positions"): ("csv_drop", "snapshot_date position_id department_code program_code title status employee_name vacant_since annual_salary"),
    ("proc_portal", "vendors"): ("soda", "vendor_id vendor_name address contact_name contact_email status registered_date :id :updated_at"),
    ("proc_portal", "contracts"): ("soda", "contract_id vendor_id title department_code program_code contract_type season_year region start_date end_date total_value base_payment performance_pool penalty_per_day_late penalty_per_incident warranty_months planned_miles status :id :updated_at"),
    ("proc_portal", "contract_milestones"): ("soda", "milestone_id contract_id milestone_name due_date target_share weight metric :id :updated_at"),
    ("pw_paving", "paving_reports"): ("xlsx_drop", "report_week contract_id vendor_id segment_id street_name from_street to_street length_miles scheduled_start scheduled_end actual_start actual_end status pci_before pci_after parking_incidents environmental_incidents rework_required"),
    ("hs_centres", "centre_monthly"): ("xlsx_drop", "month site_id site_name program_code service_area capacity enrollment outcome_measure outcome_target outcome_value monthly_cost"),
    ("perf_office", "kpi_submissions"): ("manual_submission", "kpi_id department_code period value numerator denominator submitted_by submitted_at notes"),
    ("perf_office", "strategic_goals"): ("csv_drop", "goal_id title kpi_id department_code baseline target_value unit start_date deadline owner"),
    ("omb_reference", "peer_city_spending"): ("csv_drop", "city state population fiscal_year function spending per_capita"),
    ("perf_workbench", "flag_actions"): ("sqlite", "id flag_id kpi_id period department_code kind status owner action due_date follow_up escalated_to reason actor acted_at"),
    ("perf_workbench", "commentary"): ("sqlite", "id kpi_id department_code period comment author written_at"),
}
CONTRACT_DEPARTMENT = {
    "crm311": "cs", "pw_mms": "pw", "fire_cad": "fire", "ce_vacant": "ce", "fin_erp": "fin", "proc_portal": "proc",
    "pw_paving": "pw", "hs_centres": "hs", "perf_office": "perf", "omb_reference": "omb", "perf_workbench": "perf",
}  # fmt: skip
PII = {
    ("crm311", "service_requests"): {"first_name", "last_name", "phone", "email"},
    ("pw_mms", "crews"): {"supervisor_name"},
    ("ce_vacant", "cases"): {"owner_name", "owner_phone"},
    ("fin_erp", "positions"): {"employee_name"},
    ("proc_portal", "vendors"): {"contact_name", "contact_email"},
    ("perf_office", "kpi_submissions"): {"submitted_by"},
}
FREE_TEXT = {
    ("crm311", "service_requests"): {"description", "status_notes"},
    ("ce_vacant", "inspections"): {"notes"},
    ("perf_office", "kpi_submissions"): {"notes"},
}
CURSORS = {
    ("crm311", "service_requests"): "updated_datetime",
    ("pw_mms", "work_orders"): "updated_at",
    ("fire_cad", "incidents"): "updated_at",
    ("proc_portal", "vendors"): ":updated_at",
    ("proc_portal", "contracts"): ":updated_at",
    ("proc_portal", "contract_milestones"): ":updated_at",
    ("perf_workbench", "flag_actions"): "acted_at",
    ("perf_workbench", "commentary"): "written_at",
}
SOURCE_OBJECTS = {
    ("perf_workbench", "flag_actions"): "workbench_flagaction",
    ("perf_workbench", "commentary"): "workbench_commentary",
    ("crm311", "services"): "services.json",
    ("crm311", "service_requests"): "requests.json",
    ("proc_portal", "vendors"): "vndr-2x7k",
    ("proc_portal", "contracts"): "ctrc-9p3m",
    ("proc_portal", "contract_milestones"): "mlst-4h8q",
    ("pw_mms", "work_orders"): "work_orders",
    ("fire_cad", "incidents"): "incidents",
    ("ce_vacant", "cases"): "vacant_cases_*.csv",
    ("ce_vacant", "inspections"): "vacant_inspections_*.csv",
    ("fin_erp", "expenditures"): "gl_expenditures_*.csv",
    ("pw_paving", "paving_reports"): "paving_weekly_*.xlsx",
    ("hs_centres", "centre_monthly"): "centres_*.xlsx",
    ("omb_reference", "peer_city_spending"): "peer_city_spending.csv",
}


@pytest.fixture(scope="module")
def inventory():
    return load_inventory()


def test_shipped_inventory_has_no_problems():
    assert validate() == []


def test_every_department_of_riverton_is_inventoried_with_at_least_one_dataset(inventory):
    assert {d.id: d.name for d in inventory.departments} == DEPARTMENTS
    for department in inventory.departments:
        assert list(inventory.datasets(department.id)), f"{department.id} has no dataset"
        assert department.contact.email.endswith("@riverton.gov")


def test_coverage_gaps_are_visible(inventory):
    """Most departments keep data CityStat cannot pull yet: paper, desktop databases, spreadsheets."""
    not_ingested_only = [d.id for d in inventory.departments if not any(r.dataset.ingested for r in inventory.datasets(d.id))]
    assert {"pol", "parks", "lib", "hr", "it", "law", "clerk", "plan", "san", "wat", "trn", "hlth", "fleet"} <= set(not_ingested_only)
    kinds = {r.system.kind for r in inventory.datasets() if not r.dataset.ingested}
    assert {"paper", "desktop_database", "spreadsheet"} <= kinds


@pytest.mark.parametrize("key", sorted(CONTRACT), ids=lambda k: ".".join(k))
def test_demo_dataset_matches_the_contract(inventory, key):
    connector, columns = CONTRACT[key]
    ref = inventory.get(*key)
    assert ref.department.id == CONTRACT_DEPARTMENT[key[0]]
    assert ref.dataset.connector == connector
    assert list(ref.field_names) == columns.split()
    assert set(ref.pii_fields) == PII.get(key, set())
    assert FREE_TEXT.get(key, set()) <= set(ref.restricted_fields) - set(ref.pii_fields)
    assert ref.dataset.cursor_field == CURSORS.get(key)
    if key in SOURCE_OBJECTS:
        assert ref.dataset.source_object == SOURCE_OBJECTS[key]
    assert ref.dataset.primary_key, "every landed dataset needs a primary key"
    assert ref.dataset.location is not None and ref.dataset.location.env


def test_every_contract_dataset_is_listed_and_nothing_else_is_ingested(inventory):
    ingested = {r.key for r in inventory.datasets() if r.dataset.ingested}
    assert ingested == set(CONTRACT)


def test_locations_follow_the_contract(inventory):
    open311 = inventory.get("crm311", "service_requests").dataset.location
    assert (open311.env, open311.default) == ("CITYSTAT_OPEN311_URL", "http://127.0.0.1:8311/open311/v2")
    soda = inventory.get("proc_portal", "contracts").dataset.location
    assert (soda.env, soda.default) == ("CITYSTAT_SODA_URL", "http://127.0.0.1:8311")
    assert inventory.get("pw_mms", "work_orders").dataset.location.default == "public_works/mms.sqlite"
    assert inventory.get("fire_cad", "incidents").dataset.location.default == "fire/cad.sqlite"
    assert inventory.get("ce_vacant", "cases").dataset.location.default == "drops/code_enforcement"
    assert inventory.get("fin_erp", "budget").dataset.location.default == "drops/finance"
    assert inventory.get("pw_paving", "paving_reports").dataset.sheet == "report"
    assert inventory.get("hs_centres", "centre_monthly").dataset.sheet == "centres"
    assert inventory.get("perf_office", "kpi_submissions").dataset.update_method == "manual"


def test_types_ranges_and_allowed_values_follow_the_contract(inventory):
    def spec(system_id, dataset_id, name):
        return next(f for f in inventory.get(system_id, dataset_id).fields if f.name == name)

    assert spec("pw_mms", "work_orders", "status").allowed_values == ("open", "scheduled", "completed", "cancelled")
    assert spec("pw_mms", "work_orders", "labor_hours").type == "number"
    assert spec("pw_mms", "work_orders", "labor_hours").minimum == 0
    assert spec("pw_mms", "crews", "crew_size").type == "integer"
    assert spec("fire_cad", "incidents", "priority").type == "integer"
    assert (spec("fire_cad", "incidents", "priority").minimum, spec("fire_cad", "incidents", "priority").maximum) == (1, 3)
    assert set(spec("fire_cad", "incidents", "incident_type").allowed_values) == {"structure_fire", "medical", "vehicle_fire", "alarm", "hazmat", "other"}
    assert set(spec("ce_vacant", "cases", "status").allowed_values) == {"open", "in_progress", "addressed"}
    assert set(spec("ce_vacant", "cases", "outcome").allowed_values) == {"repaired", "demolished", "deconstructed"}
    assert set(spec("ce_vacant", "inspections", "result").allowed_values) == {"violation", "compliant", "no_access"}
    assert spec("fin_erp", "expenditures", "fiscal_period").maximum == 12
    assert set(spec("proc_portal", "contracts", "contract_type").allowed_values) == {"results_driven", "fixed_price", "time_materials"}
    assert spec("proc_portal", "contracts", "season_year").type == "integer"
    assert set(spec("proc_portal", "contract_milestones", "metric").allowed_values) == {"progression", "quality", "parking", "environmental"}
    assert spec("proc_portal", "vendors", ":updated_at").type == "datetime"
    assert set(spec("pw_paving", "paving_reports", "rework_required").allowed_values) == {"Y", "N"}
    assert spec("crm311", "service_requests", "requested_datetime").type == "datetime"
    assert spec("crm311", "services", "sla_days").type == "number"
    assert set(spec("omb_reference", "peer_city_spending", "function").allowed_values) == {"pol", "fire", "pw", "parks", "san", "wat", "lib", "hs", "hlth", "fleet"}


def test_every_dataset_has_owner_steward_and_quality_metadata(inventory):
    for ref in inventory.datasets():
        ds = ref.dataset
        assert ds.owner.email and ds.steward.email
        assert ds.freshness_hours > 0
        if ds.publication.status == "published":
            assert ds.publication.url.startswith("https://")
