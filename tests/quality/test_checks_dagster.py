"""The gates inside real Dagster runs: blocking error rules, warnings that let data flow, a drifted file that
lands the rest and fails the raw asset's schema_drift check, drift and missing exports surfaced as source checks,
warehouse checks and the dataset scores on a built warehouse."""
from __future__ import annotations

import sqlite3
import shutil

import dagster as dg
import duckdb
import pytest
from dagster_duckdb import DuckDBResource

from orchestration.defs.ingestion.assets import DRIFT_CHECK as RAW_DRIFT_CHECK, build_ingestion, raw_key
from orchestration.lib.resources import IngestionResource
from orchestration.defs.quality.checks import (
    DRIFT_CHECK, GX_CHECK, RECONCILIATION_CHECK, VOLUME_CHECK, build_quality_checks, mart_key, mart_models,
    source_health_job, staging_key,
)
from demo_city.measure import demo_servers
from citystat.quality.scores import TABLE
from orchestration.defs.quality.scores import build_dataset_scores_asset


# the session's scale-0.1 city and warehouse (fixtures) are built inside the first test that asks for them
pytestmark = pytest.mark.timeout(1800)

SUBSET = [("crm311", "services"), ("crm311", "service_requests"), ("ce_vacant", "cases"), ("ce_vacant", "inspections"),
          ("fin_erp", "expenditures"), ("fin_erp", "budget")]
BROKEN_SLA = ["SR-0000004", "SR-0000010", "SR-0000020"]


def copy_city(city, tmp_path):
    """A private copy of a session city (``from conftest import`` would pick another folder's conftest in a wider run)."""
    copy = tmp_path / "city"
    shutil.copytree(city, copy)
    return copy


def downstream_of(key: dg.AssetKey) -> dg.AssetsDefinition:
    @dg.asset(key=["downstream", *key.path[1:]], deps=[key])
    def _downstream() -> None:
        return None
    return _downstream


@pytest.fixture
def warehouse_env(tmp_path, monkeypatch):
    monkeypatch.setenv("CITYSTAT_WAREHOUSE_DIR", str(tmp_path / "warehouse"))
    return tmp_path / "warehouse"


def test_a_run_blocks_exactly_the_assets_whose_error_rules_fail(defective_city, tmp_path, warehouse_env, inventory):
    city = copy_city(defective_city, tmp_path)
    with sqlite3.connect(city / "crm311" / "crm.sqlite") as db:  # SLA due dates that contradict the service type
        db.executemany("UPDATE requests SET expected_datetime = replace(expected_datetime, substr(expected_datetime, 1, 4), "
                       "CAST(CAST(substr(expected_datetime, 1, 4) AS INTEGER) + 1 AS TEXT)) WHERE service_request_id = ?",
                       [(i,) for i in BROKEN_SLA])
    ingestion = build_ingestion(inventory)
    raw = [a for a in ingestion.raw_assets if tuple(a.key.path[1:]) in SUBSET]
    keys = [a.key for a in raw]
    checks = [c for c in build_quality_checks(inventory, keys) if c.node_def.name.startswith("raw_")]
    downstream = [downstream_of(k) for k in keys]
    resource = IngestionResource(data_dir=str(city), warehouse_dir=str(warehouse_env), retry_attempts=2, retry_initial_wait=0.01)
    with demo_servers(city), dg.instance_for_test() as instance:
        result = dg.materialize([*ingestion.source_specs, *raw, *checks, *downstream], resources={"ingestion": resource},
                                instance=instance, raise_on_error=False)

    evaluations = {(e.asset_key, e.check_name): e for e in result.get_asset_check_evaluations()}
    errors = {k for k, e in evaluations.items() if not e.passed and e.severity == dg.AssetCheckSeverity.ERROR}
    warnings = {k for k, e in evaluations.items() if not e.passed and e.severity == dg.AssetCheckSeverity.WARN}
    failed_steps = {e.step_key for e in result.all_events if e.event_type_value == "STEP_FAILURE"}
    requests, cases = raw_key(inventory.get("crm311", "service_requests")), raw_key(inventory.get("ce_vacant", "cases"))
    # the drifted file no longer fails ingestion: the good files land and the (non-blocking) drift check fails
    assert errors == {(requests, GX_CHECK), (cases, RAW_DRIFT_CHECK)}
    assert "vacant_cases_2026-09-21.csv" in evaluations[(cases, RAW_DRIFT_CHECK)].description
    # a failing blocking check fails its step, which stops what follows
    assert failed_steps == {"raw__crm311__service_requests_gx_suite"}
    assert {(raw_key(inventory.get(*k)), GX_CHECK) for k in [("ce_vacant", "inspections"), ("fin_erp", "expenditures")]} <= warnings

    blocked = {requests}
    materialized = {e.asset_key for e in result.get_asset_materialization_events()}
    assert cases in materialized
    for key in keys:
        down = dg.AssetKey(["downstream", *key.path[1:]])
        assert (down in materialized) == (key not in blocked), key.to_user_string()

    message = evaluations[(requests, GX_CHECK)].description
    assert "crm311.service_requests" in message and "[error] sla_mismatch" in message
    assert all(i in message for i in BROKEN_SLA)
    metadata = evaluations[(requests, GX_CHECK)].metadata
    failing = [r for r in metadata["results"].value if not r["success"]]
    assert any(r["rule"] == "sla_mismatch" and r["severity"] == "error" and r["unexpected"] == 3 for r in failing)
    assert metadata["data_docs"].value.startswith("file://") and (warehouse_env / "quality" / "data_docs").is_dir()


def test_warehouse_checks_source_health_and_scores_on_a_built_warehouse(defective_built, tmp_path, warehouse_env, inventory):
    work_db = tmp_path / "work.duckdb"
    shutil.copy(defective_built.work_db, work_db)
    refs = [r for r in inventory.datasets() if r.dataset.connector != "none"]
    specs = ([dg.AssetSpec(staging_key(r)) for r in refs] + [dg.AssetSpec(mart_key(m)) for m in mart_models()]
             + [dg.AssetSpec(["source", *r.key]) for r in refs])
    checks = [c for c in build_quality_checks(inventory, [s.key for s in specs]) if not c.node_def.name.startswith("raw_")]
    scores = build_dataset_scores_asset(inventory, [staging_key(r) for r in refs])
    defs = dg.Definitions(
        assets=[*specs, scores], asset_checks=checks,
        jobs=[source_health_job(checks), dg.define_asset_job("warehouse_checks", selection=dg.AssetSelection.checks(
            *[c for c in checks if c.node_def.name != "source_health"]) | dg.AssetSelection.assets(scores))],
        resources={"warehouse": DuckDBResource(database=str(work_db)),
                   "ingestion": IngestionResource(data_dir=str(defective_built.city), warehouse_dir=str(defective_built.warehouse))},
    )
    with dg.instance_for_test() as instance:
        health = defs.resolve_job_def("source_health_checks").execute_in_process(instance=instance, raise_on_error=False)
        warehouse = defs.resolve_job_def("warehouse_checks").execute_in_process(instance=instance, raise_on_error=False)

    failing = {(e.asset_key.to_user_string(), e.check_name): e for e in health.get_asset_check_evaluations() if not e.passed}
    assert set(failing) == {("source/ce_vacant/cases", DRIFT_CHECK), ("source/ce_vacant/cases", VOLUME_CHECK),
                            ("source/ce_vacant/inspections", VOLUME_CHECK)}
    drift = failing[("source/ce_vacant/cases", DRIFT_CHECK)]
    assert drift.severity == dg.AssetCheckSeverity.ERROR
    assert "vacant_cases_2026-09-21.csv" in drift.description and "inspector_id" in drift.description and "ward" in drift.description
    assert "2024-12-30" in failing[("source/ce_vacant/inspections", VOLUME_CHECK)].description

    evaluations = warehouse.get_asset_check_evaluations()
    reconciliations = [e for e in evaluations if e.check_name == RECONCILIATION_CHECK]
    marts = [e for e in evaluations if e.check_name == GX_CHECK]
    assert len(reconciliations) == len(refs) and all(e.passed for e in reconciliations)
    assert len(marts) == len(mart_models()) and all(e.passed for e in marts), [e.description for e in marts if not e.passed]

    assert sorted(p.name for p in (warehouse_env / "quality" / "results").glob("marts.*.json")) == \
        sorted(f"marts.{m}.json" for m in mart_models())
    with duckdb.connect(str(work_db), read_only=True) as con:
        rows = {r[0]: r[1:] for r in con.execute(
            f"SELECT dataset_id, quality_score, drifted_files, missing_exports, quarantine_share, reconciliation_holds FROM {TABLE}").fetchall()}
        comment = con.execute("SELECT comment FROM duckdb_columns() WHERE schema_name = 'quality' AND table_name = 'dataset_scores' "
                              "AND column_name = 'quality_score'").fetchone()[0]
    assert len(rows) == len(refs) and "40 x pass rate" in comment
    assert rows["ce_vacant.cases"][1:3] == (1, 1) and rows["ce_vacant.cases"][0] < rows["fire_cad.stations"][0]
    assert all(holds for *_, holds in rows.values())
    assert rows["fin_erp.expenditures"][3] > 0
