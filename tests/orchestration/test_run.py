"""`citystat run`: one run of citystat_all through the Dagster instance, like the UI; refusals; fail closed on Ctrl-C.

Real processes on the shared demo city or copies of it (tmp paths for the warehouse, the city and DAGSTER_HOME).
"""
import os
import signal

import pytest

from pipeline_helpers import citystat, copy_of_pipeline, mart_digest, open_instance, pipeline_env, start_citystat, wait_for_step_start

pytestmark = pytest.mark.slow


def test_citystat_run_is_one_job_run_of_the_code_location_with_its_log(pipeline):
    """The shared demo city's `citystat run`: a run of citystat_all launched from the code location, like the UI's
    (tests/orchestration/test_dagster_ui.py launches one from the browser and compares its snapshot with this one)."""
    out = pipeline.first_run.stdout
    assert "full log: " in out and "Traceback" not in out + pipeline.first_run.stderr
    with open_instance(pipeline.env) as instance:
        run = instance.get_run_records(ascending=True, limit=1)[0].dagster_run
    assert run.job_name == "citystat_all" and run.is_finished
    assert run.tags["dagster/code_location"] == "citystat" and run.remote_job_origin is not None
    log = pipeline.tmp / "warehouse" / "logs" / f"run-{run.run_id}.log"
    assert log.exists() and "dbt_models" in log.read_text() and str(log) in out.replace("\n", "")


@pytest.mark.timeout(300)
def test_unknown_selection_is_refused_with_the_valid_choices(tmp_path):
    env = pipeline_env(tmp_path)
    result = citystat(env, "run", "--select", "bogus", check=False)
    out = result.stdout + result.stderr
    assert result.returncode == 2, out
    assert "group:metrics" in out and "key:raw/*" in out
    assert "Traceback" not in out
    with open_instance(env) as instance:
        assert instance.get_run_records() == []  # nothing was launched


@pytest.mark.timeout(1200)
def test_sigint_during_a_blocking_check_fails_closed(pipeline, tmp_path):
    copy = tmp_path / "copy"  # the shared demo city after its run: a published snapshot to keep intact
    env = copy_of_pipeline(pipeline.tmp, copy)
    snapshot = copy / "warehouse" / "citystat.duckdb"
    before = (snapshot.stat().st_mtime_ns, mart_digest(snapshot))

    proc = start_citystat(env, "run", "--no-dashboards", "--full-refresh", log=tmp_path / "second.out")
    run_id = wait_for_step_start(env, "mart_gx_suites", proc, timeout=900)
    os.kill(proc.pid, signal.SIGINT)
    assert proc.wait(timeout=300) == 130, (tmp_path / "second.out").read_text()[-3000:]

    with open_instance(env) as instance:
        run = instance.get_run_by_id(run_id)
        assert run.is_finished and run.status.value != "SUCCESS"
        from dagster import DagsterEventType
        materialized = {r.event_log_entry.dagster_event.asset_key.to_user_string()
                        for r in instance.get_records_for_run(run_id, of_type=DagsterEventType.ASSET_MATERIALIZATION).records}
    assert "publish/snapshot" not in materialized and "marts/fct_service_requests" in materialized
    assert (snapshot.stat().st_mtime_ns, mart_digest(snapshot)) == before
