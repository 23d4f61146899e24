"""The whole dbt project builds on a landed demo city: every model, data test and unit test passes, every mart has
rows, every computed KPI of the registry has values, and the docs are complete."""
from __future__ import annotations

import csv
import json

from orchestration.lib.dbt_project import DBT_PROJECT_DIR

from dbt_helpers import dbt, tables
import pytest

# the session's scale-0.1 city and warehouse (fixtures) are built inside the first test that asks for them
pytestmark = pytest.mark.timeout(1800)

# Relationship tests that only warn, by design: a work order may answer a 311 request that is quarantined, and
# the daily case exports carry a case only once it changes, so old cases' inspections can precede their case.
EXPECTED_WARNINGS = {
    "relationships_fct_work_orders_service_request_id__service_request_id__ref_fct_service_requests_",
    "relationships_fct_inspections_case_id__case_id__ref_fct_code_cases_",
}


def test_every_model_and_test_passes(built):
    results = built.run_results()
    failed = [(r["unique_id"], r["status"], r.get("message")) for r in results if r["status"] not in ("success", "pass", "warn")]
    assert not failed
    warned = {r["unique_id"].split(".")[2] for r in results if r["status"] == "warn"}
    assert warned <= EXPECTED_WARNINGS
    kinds = {r["unique_id"].split(".")[0] for r in results}
    assert {"model", "seed", "test", "unit_test"} <= kinds


def test_unit_tests_ran_and_passed(built):
    unit = {r["unique_id"].rsplit(".", 1)[-1]: r["status"] for r in built.run_results() if r["unique_id"].startswith("unit_test.")}
    assert {
        "fct_service_requests_on_time_is_closed_by_the_due_time",
        "fct_service_requests_repeat_window_is_30_days_at_the_same_address_and_type",
        "dim_date_fiscal_year_runs_july_to_june_named_by_its_end_year",
        # one per KPI family, hand-computed (issue 13)
        "on_time_kpis_count_requests_closed_in_the_month_per_department_and_citywide",
        "hs_outcome_rates_are_the_share_of_sites_meeting_their_target",
        "paving_kpis_restart_at_the_fiscal_year_and_work_orders_count_by_completion_month",
        "fire_percentiles_use_the_alarm_month_for_turnout_and_the_arrival_month_for_arrival",
        "finance_and_contract_kpis_are_fiscal_year_to_date_and_restart_in_july",
    } <= set(unit)
    assert set(unit.values()) == {"success"} or set(unit.values()) == {"pass"}


def test_every_mart_has_rows(built):
    with built.connect() as con:
        marts = tables(con, "marts")
        empty = [t for _, t in marts if con.execute(f"SELECT count(*) FROM marts.{t}").fetchone()[0] == 0]
    expected = {
        "dim_department", "dim_date", "dim_program", "dim_vendor", "dim_service_type", "dim_location", "dim_property",
        "fct_service_requests", "fct_work_orders", "fct_code_cases", "fct_inspections", "fct_paving_segments",
        "fct_fire_incidents", "fct_contracts", "fct_contract_milestones", "fct_budget_lines", "fct_expenditures",
        "fct_positions", "fct_programme_site_outcomes", "kpi_values",
    }
    assert expected <= {t for _, t in marts}
    assert not empty


def test_kpi_values_cover_every_computed_kpi_of_the_registry_and_nothing_else(built):
    with open(DBT_PROJECT_DIR / "seeds" / "kpi_registry.csv", newline="") as f:
        computed = {row["id"] for row in csv.DictReader(f) if row["source"] == "computed"}
    with built.connect() as con:
        present = {k for (k,) in con.execute("SELECT DISTINCT kpi_id FROM marts.kpi_values WHERE value IS NOT NULL").fetchall()}
        pct_out_of_range = con.execute(
            "SELECT count(*) FROM marts.kpi_values WHERE kpi_id LIKE '%\\_pct' ESCAPE '\\' AND value > 1000"
        ).fetchone()[0]
        pw = con.execute(
            "SELECT avg(value) FILTER (WHERE fiscal_year = 2024), avg(value) FILTER (WHERE fiscal_year = 2027) "
            "FROM marts.kpi_values WHERE kpi_id = 'pw_on_time_pct'"
        ).fetchone()
    assert present == computed
    assert pct_out_of_range == 0
    # The demo city's Public Works climbs from ~57% to ~95% on time (Atlanta's story): the KPI must show it.
    assert pw[0] < 75 < 88 < pw[1]


def test_docs_generate_and_every_column_is_documented(built):
    dbt(built, "docs", "generate")
    manifest = json.loads((built.target / "manifest.json").read_text())
    catalog = json.loads((built.target / "catalog.json").read_text())
    undocumented = []
    for unique_id, node in catalog["nodes"].items():
        if not unique_id.startswith("model."):
            continue
        documented = manifest["nodes"][unique_id]
        if not documented.get("description"):
            undocumented.append(unique_id)
        described = {name for name, col in documented["columns"].items() if col.get("description")}
        undocumented += [f"{unique_id}.{c}" for c in node["columns"] if c not in described]
    assert not undocumented
