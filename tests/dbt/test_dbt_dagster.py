"""The dbt project as Dagster assets: keys and groups by layer, sources keyed to the ingestion's raw assets, dbt tests
as asset checks, the incremental models daily-partitioned with single-run backfills, one warehouse-writer pool; the
manifest is parsed only when stale; and a real materialization of all three dbt ops on a copy of the warehouse."""
from __future__ import annotations

import os
import shutil
from pathlib import Path

import dagster as dg
import pytest
from dagster_dbt import DbtProject

import orchestration.lib.dbt_project as dbt_assets
from orchestration.lib.dbt_project import DAILY_PARTITIONS, DBT_ASSETS, DBT_PROJECT_DIR, ParseWhenStale, manifest_is_stale, run_vars
from orchestration.defs.ingestion.assets import build_ingestion
from citystat.warehouse import WAREHOUSE_POOL


def all_keys(asset):
    return set(asset.keys)


def test_keys_groups_and_lineage_from_raw_to_marts():
    keys = {k for a in DBT_ASSETS for k in a.keys}
    layers = {k.path[0] for k in keys}
    assert layers == {"staging", "intermediate", "marts", "reference"}
    assert dg.AssetKey(["marts", "fct_service_requests"]) in keys
    assert dg.AssetKey(["staging", "stg_crm311__service_requests"]) in keys
    groups = {k: g for a in DBT_ASSETS for k, g in a.group_names_by_key.items()}
    assert all(groups[k] == k.path[0] for k in keys)
    raw_deps = {d for a in DBT_ASSETS for d in a.dependency_keys if d.path[0] == "raw"}
    assert raw_deps == set(build_ingestion().raw_keys)  # every landed dataset feeds dbt, through the ingestion's key


def test_dbt_tests_are_asset_checks():
    checks = {c for a in DBT_ASSETS for c in a.check_keys}
    assert len(checks) > 200
    assert dg.AssetCheckKey(dg.AssetKey(["marts", "fct_service_requests"]), "unique_fct_service_requests_service_request_id") in checks


def test_incremental_models_are_daily_partitioned_and_every_dbt_asset_is_in_the_writer_pool():
    upstream, daily, downstream = DBT_ASSETS
    assert daily.partitions_def == DAILY_PARTITIONS
    assert upstream.partitions_def is None and downstream.partitions_def is None
    assert daily.backfill_policy == dg.BackfillPolicy.single_run()
    assert {k.path[-1] for k in daily.keys} >= {"fct_service_requests", "fct_work_orders", "fct_expenditures", "fct_fire_incidents",
                                                 "base_crm311__service_requests", "base_fin_erp__expenditures"}
    for asset in DBT_ASSETS:
        assert asset.op.pool == WAREHOUSE_POOL


def test_partition_window_becomes_dbt_vars_in_city_time():
    day = DAILY_PARTITIONS.time_window_for_partition_key("2026-11-01")
    assert run_vars(day) == {"window_start": "2026-11-01 00:00:00", "window_end": "2026-11-02 00:00:00"}
    week = dg.TimeWindow(DAILY_PARTITIONS.time_window_for_partition_key("2026-03-06").start,
                         DAILY_PARTITIONS.time_window_for_partition_key("2026-03-09").end)  # across the DST change
    assert run_vars(week) == {"window_start": "2026-03-06 00:00:00", "window_end": "2026-03-10 00:00:00"}
    assert run_vars(None) == {}


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
    monkeypatch.setattr(dbt_assets, "parse_project", lambda p: parsed.append(p))

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
def test_dagster_materializes_the_dbt_assets_on_a_warehouse(built, tmp_path, monkeypatch):
    warehouse = tmp_path / "warehouse"
    shutil.copytree(built.landing, warehouse / "landing")
    shutil.copy(built.db, warehouse / "work.duckdb")
    monkeypatch.setenv("CITYSTAT_WAREHOUSE_DIR", str(warehouse))
    monkeypatch.delenv("CITYSTAT_WORK_DB", raising=False)
    resources = {"dbt": dbt_assets.dbt_resource()}
    upstream, daily, downstream = DBT_ASSETS
    instance = dg.DagsterInstance.ephemeral()

    results = [
        dg.materialize([upstream], resources=resources, instance=instance),
        dg.materialize([daily], resources=resources, instance=instance, partition_key="2026-10-31"),
        dg.materialize([downstream], resources=resources, instance=instance),
    ]
    assert all(r.success for r in results)
    materialized = {m.asset_key for r in results for m in r.get_asset_materialization_events()}
    assert materialized == {k for a in DBT_ASSETS for k in a.keys}
    evaluations = [e for r in results for e in r.get_asset_check_evaluations()]
    assert len(evaluations) > 200
    failed = [e.check_name for e in evaluations if not e.passed and e.severity == dg.AssetCheckSeverity.ERROR]
    assert not failed
    # the run wrote the warehouse it was pointed at, not the repository's default one
    assert Path(warehouse / "work.duckdb").stat().st_mtime > Path(built.db).stat().st_mtime
