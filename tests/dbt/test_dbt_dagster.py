"""The dbt project as Dagster assets: one unpartitioned multi-asset (keys and groups by layer, sources keyed to the
ingestion's raw assets, dbt tests as asset checks, every model following its inputs, one warehouse-writer pool); its
run config (full refresh, a reprocessing window) as dbt arguments; the manifest parsed only when stale; and a real
materialization of the whole project on a copy of the warehouse."""
from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import dagster as dg
import pytest
from dagster_dbt import DbtProject

import orchestration.lib.dbt_project as dbt_project_module
from citystat.warehouse import WAREHOUSE_POOL
from orchestration.defs.dbt.assets import DbtBuildConfig, build_args, build_vars, dbt_models, dbt_resource
from orchestration.defs.ingestion.assets import build_ingestion
from orchestration.lib.automation import WAREHOUSE_AUTOMATION
from orchestration.lib.dbt_project import DBT_PROJECT_DIR, ParseWhenStale, dbt_environment, manifest_is_stale

INCREMENTAL = {"fct_service_requests", "fct_work_orders", "fct_expenditures", "fct_fire_incidents",
               "base_crm311__service_requests", "base_fin_erp__expenditures"}


def test_keys_groups_and_lineage_from_raw_to_marts():
    keys = set(dbt_models.keys)
    layers = {k.path[0] for k in keys}
    assert layers == {"staging", "intermediate", "marts", "reference"}
    assert dg.AssetKey(["marts", "fct_service_requests"]) in keys
    assert dg.AssetKey(["staging", "stg_crm311__service_requests"]) in keys
    groups = dbt_models.group_names_by_key
    assert all(groups[k] == k.path[0] for k in keys)
    raw_deps = {d for d in dbt_models.dependency_keys if d.path[0] == "raw"}
    assert raw_deps == set(build_ingestion().raw_keys)  # every landed dataset feeds dbt, through the ingestion's key


def test_dbt_tests_are_asset_checks():
    checks = set(dbt_models.check_keys)
    assert len(checks) > 200
    assert dg.AssetCheckKey(dg.AssetKey(["marts", "fct_service_requests"]), "unique_fct_service_requests_service_request_id") in checks


def test_one_unpartitioned_asset_in_the_writer_pool_whose_models_follow_their_inputs():
    """No daily partitions any more: the incremental models are ordinary members of the one dbt asset."""
    assert dbt_models.partitions_def is None
    assert dbt_models.op.pool == WAREHOUSE_POOL
    assert {k.path[-1] for k in dbt_models.keys} >= INCREMENTAL
    conditions = {key: spec.automation_condition for key, spec in dbt_models.specs_by_key.items()}
    assert all(condition == WAREHOUSE_AUTOMATION for condition in conditions.values())


@pytest.mark.timeout(120)
def test_run_config_becomes_dbt_arguments_and_a_reprocessing_window_in_city_time(monkeypatch, tmp_path):
    monkeypatch.delenv("CITYSTAT_AS_OF", raising=False)
    monkeypatch.setenv("CITYSTAT_DATA_DIR", str(tmp_path / "no_city"))  # no generation.json: live data, no as-of
    assert build_vars(DbtBuildConfig()) == {}  # an ordinary run: only what is new
    assert build_args(DbtBuildConfig()) == ["build"]
    assert build_args(DbtBuildConfig(full_refresh=True)) == ["build", "--full-refresh"]

    week = DbtBuildConfig(reprocess_from="2026-03-06", reprocess_to="2026-03-09")  # across the DST change
    assert build_vars(week) == {"window_start": "2026-03-06 00:00:00", "window_end": "2026-03-10 00:00:00"}
    assert build_args(week) == ["build", "--vars", json.dumps(build_vars(week))]
    day = DbtBuildConfig(reprocess_from="2026-11-01", reprocess_to="2026-11-01")
    assert build_vars(day) == {"window_start": "2026-11-01 00:00:00", "window_end": "2026-11-02 00:00:00"}

    monkeypatch.setenv("CITYSTAT_AS_OF", "2026-10-31")
    assert build_vars(day) == {"as_of": "2026-10-31", "window_start": "2026-11-01 00:00:00", "window_end": "2026-11-02 00:00:00"}
    # dbt gets the date from the environment (a daily --vars would re-parse the whole project), the window as --vars
    assert build_args(day) == ["build", "--vars", json.dumps({"window_start": "2026-11-01 00:00:00", "window_end": "2026-11-02 00:00:00"})]
    assert dbt_environment()["CITYSTAT_DBT_AS_OF"] == "2026-10-31"
    monkeypatch.delenv("CITYSTAT_AS_OF")
    assert dbt_environment()["CITYSTAT_DBT_AS_OF"] == ""  # live data: set empty, so no stale value reaches dbt

    for bad in (DbtBuildConfig(reprocess_from="2026-11-01"), DbtBuildConfig(reprocess_from="2026-11-01", reprocess_to="11/02/2026")):
        with pytest.raises(dg.Failure, match="give both days as YYYY-MM-DD"):
            build_vars(bad)
    with pytest.raises(dg.Failure, match="before it starts"):
        build_vars(DbtBuildConfig(reprocess_from="2026-11-02", reprocess_to="2026-11-01"))


def test_definitions_include_the_dbt_assets():
    from orchestration.definitions import defs

    graph = defs.get_repository_def().asset_graph
    assert dg.AssetKey(["marts", "kpi_values"]) in graph.get_all_asset_keys()
    assert dg.AssetKey(["raw", "crm311", "service_requests"]) in graph.get(dg.AssetKey(["staging", "base_crm311__service_requests"])).parent_keys


def test_manifest_is_parsed_only_when_missing_or_stale(tmp_path, monkeypatch):
    project_dir = tmp_path / "dbt_project"
    shutil.copytree(DBT_PROJECT_DIR, project_dir, ignore=shutil.ignore_patterns("target", "logs"))
    project = DbtProject(project_dir=project_dir, profiles_dir=project_dir)
    parsed = []
    monkeypatch.setattr(dbt_project_module, "parse_project", lambda p: parsed.append(p))

    assert manifest_is_stale(project)  # no manifest yet
    ParseWhenStale().prepare(project)
    assert len(parsed) == 1

    project.manifest_path.parent.mkdir(parents=True)
    project.manifest_path.write_text("{}")
    newest = max(p.stat().st_mtime for p in project_dir.rglob("*") if p.is_file())
    os.utime(project.manifest_path, (newest + 10, newest + 10))
    ParseWhenStale().prepare(project)
    assert len(parsed) == 1  # fresh: no parse

    model = project_dir / "models" / "marts" / "performance" / "kpi_values.sql"
    os.utime(model, (newest + 20, newest + 20))
    ParseWhenStale().prepare(project)
    assert len(parsed) == 2  # a model changed: parse again


@pytest.mark.slow
@pytest.mark.timeout(1200)
def test_dagster_materializes_the_dbt_assets_on_a_warehouse(built, tmp_path, monkeypatch):
    warehouse = tmp_path / "warehouse"
    shutil.copytree(built.landing, warehouse / "landing")
    shutil.copy(built.db, warehouse / "work.duckdb")
    monkeypatch.setenv("CITYSTAT_WAREHOUSE_DIR", str(warehouse))
    monkeypatch.delenv("CITYSTAT_WORK_DB", raising=False)
    monkeypatch.delenv("CITYSTAT_LANDING_DIR", raising=False)
    with dg.instance_for_test() as instance:
        result = dg.materialize([dbt_models], resources={"dbt": dbt_resource()}, instance=instance)
    assert result.success
    materialized = {m.asset_key for m in result.get_asset_materialization_events()}
    assert materialized == set(dbt_models.keys)  # one run, every model: nothing left Missing
    evaluations = result.get_asset_check_evaluations()
    assert len(evaluations) > 200
    failed = [e.check_name for e in evaluations if not e.passed and e.severity == dg.AssetCheckSeverity.ERROR]
    assert not failed
    # the run wrote the warehouse it was pointed at, not the repository's default one
    assert Path(warehouse / "work.duckdb").stat().st_mtime > Path(built.db).stat().st_mtime
