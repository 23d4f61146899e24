"""Declarative automation for real: `dagster dev` (webserver + daemon) over a warehouse `citystat run` built.

* First start over an up-to-date warehouse: the file-drop sensor requests nothing, the automation sensor
  launches nothing (no storm).
* A new monthly KPI submission file dropped into the performance office's folder flows raw -> dbt -> metrics
  -> publish with no command typed; only what is downstream of `raw/perf_office/kpi_submissions` runs.
The dashboards (minutes of Evidence build) are left out of the automation (CITYSTAT_AUTOMATE_DASHBOARDS=0).
"""
import time

import duckdb
import pytest
from dagster import AssetKey, DagsterEventType, DagsterRunStatus

from dagster_dev import DagsterDev
from pipeline_helpers import citystat, open_instance, small_city

pytestmark = [pytest.mark.slow, pytest.mark.timeout(1200)]

RAW_KEY = AssetKey(["raw", "perf_office", "kpi_submissions"])
NEW_PERIOD = "2026-10"
SETTLE_SECONDS = 90  # a few ticks of every sensor (file_drops 30 s, warehouse_automation 15 s)
FLOW_TIMEOUT_SECONDS = 600

TICKS_QUERY = """query($name: String!) { sensorOrError(sensorSelector: {repositoryLocationName: "citystat",
  repositoryName: "__repository__", sensorName: $name}) { __typename ... on Sensor { sensorState { status
  ticks(limit: 100) { status runIds skipReason error { message } } } } } }"""


def ticks(dev: DagsterDev, sensor: str) -> list[dict]:
    data = dev.graphql(TICKS_QUERY, {"name": sensor})["sensorOrError"]
    assert data["__typename"] == "Sensor", data
    assert data["sensorState"]["status"] == "RUNNING", f"{sensor} is not running on a fresh instance"
    return data["sensorState"]["ticks"]


def downstream(asset_graph, key: AssetKey) -> set[AssetKey]:
    seen, todo = set(), [key]
    while todo:
        for child in asset_graph.get(todo.pop()).child_keys:
            if child not in seen:
                seen.add(child)
                todo.append(child)
    return seen


def materialized(instance, run_ids) -> set[AssetKey]:
    return {event.dagster_event.asset_key for run_id in run_ids
            for event in instance.all_logs(run_id, of_type=DagsterEventType.ASSET_MATERIALIZATION)}


def published_rows(snapshot, period: str) -> int:
    try:
        with duckdb.connect(str(snapshot), read_only=True) as con:
            return con.execute("SELECT count(*) FROM marts.fct_kpi_submissions WHERE strftime(period_month, '%Y-%m') = ?",
                               [period]).fetchall()[0][0]
    except duckdb.Error:  # being replaced by a publish right now
        return -1


def drop_new_month(folder) -> int:
    """A new month of the KPI template, as a department would send it (a new file, written now)."""
    last = sorted(folder.glob("kpi_submissions_*.csv"))[-1]
    header, *rows = last.read_text(encoding="utf-8").splitlines()
    period = last.stem.removeprefix("kpi_submissions_")
    lines = [row.replace(f",{period},", f",{NEW_PERIOD},", 1) for row in rows if row.strip()]
    (folder / f"kpi_submissions_{NEW_PERIOD}.csv").write_text("\n".join([header, *lines]) + "\n", encoding="utf-8")
    return len(lines)


def test_a_dropped_file_reaches_the_snapshot_by_automation_only(tmp_path):
    env = small_city(tmp_path)
    env["CITYSTAT_AUTOMATE_DASHBOARDS"] = "0"
    citystat(env, "run", "--no-dashboards")
    snapshot = tmp_path / "warehouse" / "citystat.duckdb"
    assert published_rows(snapshot, NEW_PERIOD) == 0

    from orchestration.definitions import defs
    asset_graph = defs.get_repository_def().asset_graph
    allowed = {RAW_KEY} | downstream(asset_graph, RAW_KEY)

    instance = open_instance(env)
    first_build = {run.run_id for run in instance.get_runs()}
    dev = DagsterDev(env, tmp_path / "dagster_dev.log")
    try:
        dev.start()
        dev.wait_loaded()
        deadline = time.monotonic() + SETTLE_SECONDS + 120
        while time.monotonic() < deadline and not (ticks(dev, "file_drops") and len(ticks(dev, "warehouse_automation")) >= 2):
            time.sleep(5)
        time.sleep(SETTLE_SECONDS / 3)

        # first start over an up-to-date warehouse: nothing requested, nothing launched
        drop_ticks = ticks(dev, "file_drops")
        assert drop_ticks and all(t["status"] == "SKIPPED" and not t["runIds"] for t in drop_ticks), drop_ticks
        assert not [t for t in ticks(dev, "warehouse_automation") if t["runIds"]]
        assert {run.run_id for run in instance.get_runs()} == first_build

        rows = drop_new_month(tmp_path / "city" / "drops" / "performance_office")
        deadline = time.monotonic() + FLOW_TIMEOUT_SECONDS
        while time.monotonic() < deadline and published_rows(snapshot, NEW_PERIOD) != rows:
            time.sleep(10)
        assert published_rows(snapshot, NEW_PERIOD) == rows, f"not published in {FLOW_TIMEOUT_SECONDS} s\n{dev.log_tail()}"

        # let the runs of this wave end, then look at what ran
        while time.monotonic() < deadline and any(
                not run.is_finished for run in instance.get_runs() if run.run_id not in first_build):
            time.sleep(5)
        new_runs = [run for run in instance.get_runs() if run.run_id not in first_build]
        assert all(run.status == DagsterRunStatus.SUCCESS for run in new_runs), [(r.run_id, r.status) for r in new_runs]
        ran = materialized(instance, [run.run_id for run in new_runs])
        assert {RAW_KEY, AssetKey(["publish", "snapshot"]), AssetKey(["marts", "fct_kpi_submissions"])} <= ran
        assert ran <= allowed, f"ran outside what is downstream of {RAW_KEY.to_user_string()}: {sorted(k.to_user_string() for k in ran - allowed)}"
        assert not [k for k in ran if k.path[0] == "raw" and k != RAW_KEY]
        assert AssetKey(["marts", "fct_service_requests"]) not in ran  # unrelated models were left alone
        triggered = [run for run in new_runs if run.tags.get("citystat/trigger") == "file_drop"]
        assert len(triggered) == 1 and "kpi_submissions_2026-10.csv" in triggered[0].tags["citystat/files"]
        assert all(run.tags.get("dagster/sensor_name") in {"file_drops", "warehouse_automation"} for run in new_runs)
    finally:
        dev.stop()
