"""A daily run with no new data does no dbt work and runs nothing after dbt: read from the run's own event log.

Works on a copy of the shared scale-0.1 pipeline (tests/conftest.py), so the other tests see it unchanged.
"""
import json
from pathlib import Path

import pytest

from dagster import AssetKey

from orchestration.lib.dbt_inputs import UNCHANGED
from pipeline_helpers import advanced_as_of, citystat, copy_of_pipeline, open_instance

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
    env = copy_of_pipeline(pipeline.tmp, copy)

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
def test_a_new_landing_batch_builds_only_what_is_downstream_of_its_source(pipeline, tmp_path):
    """A day of new activity lands batches for some sources: dbt builds and tests the models downstream of those
    sources, reports the others unchanged (so metrics and publish still run), and the mart suites run."""
    copy = tmp_path / "copy"
    env = copy_of_pipeline(pipeline.tmp, copy)
    ledger = copy / "warehouse" / "landing" / "_loads.jsonl"
    batches_before = len(ledger.read_text(encoding="utf-8").splitlines())
    first_run, of, kind = _first_run_events(env)
    all_models = {e.asset_key for e in of(kind.ASSET_MATERIALIZATION) if e.step_key == DBT_STEP}
    citystat(env, "demo-city", "advance", "--data", str(copy / "city"), "--days", "1")
    env["CITYSTAT_AS_OF"] = advanced_as_of(copy)  # a real day: the as-of date moves with the data
    assert env["CITYSTAT_AS_OF"] != pipeline.env["CITYSTAT_AS_OF"]

    result = citystat(env, "run", "--no-dashboards", check=False)
    assert result.returncode in (0, 1), result.stdout[-3000:]  # 1: the demo city's planted raw defects still fail

    new_lines = ledger.read_text(encoding="utf-8").splitlines()[batches_before:]
    landed = {(entry["system"], entry["dataset"]) for entry in map(json.loads, new_lines)}
    assert ("crm311", "service_requests") in landed, landed
    run, of, kind = _latest_run_events(env)
    dbt_outputs = [e for e in of(kind.ASSET_MATERIALIZATION) if e.step_key == DBT_STEP]
    unchanged = {e.asset_key for e in dbt_outputs if e.event_specific_data.materialization.metadata.get(UNCHANGED)}
    rebuilt = {e.asset_key for e in dbt_outputs} - unchanged
    # Every model is reported once (so the steps after dbt run), and only the affected part was rebuilt.
    assert len(dbt_outputs) == len(all_models) and rebuilt | unchanged == all_models
    assert {AssetKey(["staging", "stg_crm311__service_requests"]), AssetKey(["marts", "fct_service_requests"])} <= rebuilt
    # Sources that landed nothing today (but did land in the first run): their staging models were not rebuilt,
    # although the as-of date moved (their quarantines hold no row the new date lets through).
    sources = {(entry["system"], entry["dataset"]) for entry in map(json.loads, ledger.read_text(encoding="utf-8").splitlines())}
    untouched = {AssetKey(["staging", f"stg_{system}__{dataset}"]) for system, dataset in sources - landed} & all_models
    assert untouched and untouched <= unchanged, (untouched, unchanged)
    # dbt tests ran on the rebuilt models only.
    tested = {e.event_specific_data.asset_key for e in of(kind.ASSET_CHECK_EVALUATION)
              if e.step_key == DBT_STEP and e.event_specific_data.asset_key.path[0] != "raw"}  # raw: source tests
    assert tested and tested <= rebuilt, tested - rebuilt
    started = {e.step_key for e in of(kind.STEP_START)}
    assert MART_SUITES_STEP in started
    assert AssetKey(["publish", "snapshot"]) in {e.asset_key for e in of(kind.ASSET_MATERIALIZATION)}



def _dbt_target(run_id: str) -> Path:
    """The run's dbt target folder (dagster-dbt's naming: <step>-<run id[:7]>-<random>), with dbt's own log."""
    from orchestration.lib.dbt_project import dbt_project

    project = dbt_project()
    [target] = (Path(project.project_dir) / project.target_path).glob(f"{DBT_STEP}-{run_id[:7]}-*")
    return target


def _parse_events(target: Path) -> dict[str, dict]:
    """dbt's parse events of the run (its JSON log, dbt.log and the parts dbt rotated out), by event name."""
    events = {}
    lines = [line for log in target.glob("dbt.log*") for line in log.read_text(encoding="utf-8").splitlines()]
    for line in lines:
        try:
            event = json.loads(line)
        except ValueError:
            continue
        name = event.get("info", {}).get("name", "")
        if "PartialPars" in name:
            events[name] = event.get("data", {})
    return events


@pytest.mark.timeout(1500)
def test_daily_runs_of_a_warehouse_partial_parse_although_the_as_of_date_moves(pipeline, tmp_path):
    """dbt re-parses only the files that read the as-of date on the second and later runs of a warehouse (the date
    reaches dbt as an env var, not --vars, and the warehouse keeps dbt's partial-parse state), and the quarantine
    rule still reads each run's date."""
    copy = tmp_path / "copy"
    env = copy_of_pipeline(pipeline.tmp, copy)
    parsed = []
    for _ in (1, 2):
        citystat(env, "demo-city", "advance", "--data", str(copy / "city"), "--days", "1")
        env["CITYSTAT_AS_OF"] = advanced_as_of(copy)
        result = citystat(env, "run", "--no-dashboards", check=False)
        assert result.returncode in (0, 1), result.stdout[-3000:]  # 1: the demo city's planted raw defects still fail
        run, of, kind = _latest_run_events(env)
        assert DBT_STEP in {e.step_key for e in of(kind.STEP_SUCCESS)}
        target = _dbt_target(run.run_id)
        parsed.append(_parse_events(target))
        # The date dbt compiled into the "not in the future" rule of 311 requests (landed today): this run's as-of.
        [compiled] = (target / "compiled").rglob("quarantine_crm311__service_requests.sql")
        assert f"cast('{env['CITYSTAT_AS_OF']}' as date) + interval '1 day'" in compiled.read_text(encoding="utf-8")
    # The first run of the copy parses everything (the warehouse moved: its profile path differs from the state's).
    assert "UnableToPartialParse" in parsed[0] and "PartialParsingEnabled" not in parsed[0], parsed[0]
    # The second reuses the state the first left beside the warehouse: only files reading the as-of date are parsed
    # again, at most the quarantine models calling the future-date rule.
    assert "UnableToPartialParse" not in parsed[1], parsed[1]
    changed = parsed[1]["PartialParsingEnabled"]
    readers = [p for p in (Path(__file__).parents[2] / "dbt_project" / "models").rglob("*.sql") if "rule_not_future(" in p.read_text()]
    assert changed["deleted"] == 0 and changed["added"] == 0 and 0 < changed["changed"] <= len(readers), (changed, len(readers))
    assert (copy / "warehouse" / "work.duckdb.dbt-partial-parse.msgpack").exists()
