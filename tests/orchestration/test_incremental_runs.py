"""A daily run with no new data does no dbt work and runs nothing after dbt: read from the run's own event log.

Works on a copy of the shared scale-0.1 pipeline (tests/conftest.py), so the other tests see it unchanged.
"""
import shutil

import pytest

from pipeline_helpers import citystat, open_instance, pipeline_env

DBT_STEP = "dbt_models"
MART_SUITES_STEP = "mart_gx_suites"


def _run_events(env: dict, newest: int = 0):
    """The `newest`-th most recent run (0: the latest) and a filter over its events by type."""
    from dagster import DagsterEventType

    with open_instance(env) as instance:
        run = instance.get_run_records(limit=newest + 1)[newest].dagster_run
        records = instance.get_records_for_run(run.run_id, limit=100_000).records
    events = [r.event_log_entry.dagster_event for r in records if r.event_log_entry.dagster_event is not None]

    def of(kind):
        return [e for e in events if e.event_type == kind]

    return run, of, DagsterEventType


def _latest_run_events(env: dict):
    return _run_events(env)


def _first_run_events(env: dict):
    """The shared fixture's own run: the oldest on record (other tests may have re-run the shared pipeline since)."""
    with open_instance(env) as instance:
        count = len(instance.get_run_records())
    return _run_events(env, newest=count - 1)


@pytest.mark.timeout(900)
def test_a_run_with_no_new_data_runs_no_dbt_model_and_no_mart_suite(pipeline, tmp_path):
    copy = tmp_path / "copy"
    shutil.copytree(pipeline.tmp, copy, ignore=shutil.ignore_patterns("*.lock"))
    env = pipeline_env(copy)

    # The shared run built the marts: its dbt step materialized models (otherwise the skip below proves nothing).
    first_run, of, kind = _first_run_events(env)
    first_dbt = [e for e in of(kind.ASSET_MATERIALIZATION) if e.step_key == DBT_STEP]
    assert any(e.asset_key.path[0] == "marts" for e in first_dbt)
    assert (copy / "warehouse" / "work.duckdb.dbt-inputs.json").exists()

    result = citystat(env, "run", "--no-dashboards", check=False)
    assert result.returncode in (0, 1), result.stdout[-3000:]  # 1: the demo city's planted raw defects still fail

    run, of, kind = _latest_run_events(env)
    assert run.run_id != first_run.run_id
    assert DBT_STEP in {e.step_key for e in of(kind.STEP_SUCCESS)}
    assert [e for e in of(kind.STEP_OUTPUT) if e.step_key == DBT_STEP] == []
    materialized = {e.asset_key.path[0] for e in of(kind.ASSET_MATERIALIZATION)}
    assert not materialized & {"staging", "intermediate", "marts", "reference", "metrics", "publish"}, materialized
    started = {e.step_key for e in of(kind.STEP_START)}
    assert MART_SUITES_STEP not in started
    checked = {e.event_specific_data.asset_key.path[0] for e in of(kind.ASSET_CHECK_EVALUATION)}
    assert not checked & {"staging", "intermediate", "marts"}, checked
    assert "nothing new to build since the last run" in result.stdout


@pytest.mark.timeout(900)
def test_a_new_landing_batch_makes_dbt_build_again(pipeline, tmp_path):
    """The skip is keyed on the landing ledger: a day of new activity lands new batches, and dbt builds again."""
    copy = tmp_path / "copy"
    shutil.copytree(pipeline.tmp, copy, ignore=shutil.ignore_patterns("*.lock"))
    env = pipeline_env(copy)
    ledger = copy / "warehouse" / "landing" / "_loads.jsonl"
    batches_before = len(ledger.read_text(encoding="utf-8").splitlines())
    citystat(env, "demo-city", "advance", "--data", str(copy / "city"), "--days", "1")

    citystat(env, "run", "--no-dashboards", check=False)

    assert len(ledger.read_text(encoding="utf-8").splitlines()) > batches_before
    run, of, kind = _latest_run_events(env)
    dbt_outputs = [e for e in of(kind.ASSET_MATERIALIZATION) if e.step_key == DBT_STEP]
    assert any(e.asset_key.path[0] == "marts" for e in dbt_outputs)
    assert MART_SUITES_STEP in {e.step_key for e in of(kind.STEP_START)}
