"""`citystat run`: one run of citystat_all through the Dagster instance, like the UI; refusals; fail closed on Ctrl-C.

Real processes on a tiny demo city (tmp paths for the warehouse, the city and DAGSTER_HOME).
"""
import os
import shutil
import signal
import subprocess
import sys

import pytest

from pipeline_helpers import ROOT, citystat, mart_digest, open_instance, pipeline_env, small_city, start_citystat, wait_for_step_start

pytestmark = pytest.mark.slow

# What the UI does on "Materialize" in the job's page: the launchPipelineExecution mutation on a workspace of the
# code location (the run is QUEUED by the instance's run coordinator), then the daemon's dequeue step launches it.
UI_LAUNCH = """
import sys, time
from pathlib import Path
from dagster import DagsterInstance, DagsterRunStatus
from dagster_graphql.client.query import LAUNCH_PIPELINE_EXECUTION_MUTATION
from dagster_graphql.test.utils import execute_dagster_graphql
from orchestration.lib.instance import dagster_home
from orchestration.run import workspace

dagster_home()
with DagsterInstance.get() as instance, workspace(instance) as (context, location):
    repo = next(iter(location.get_repositories().values()))
    keys = [k for k in repo.asset_graph.materializable_asset_keys if k.to_user_string() != "dashboards/site"]
    result = execute_dagster_graphql(context, LAUNCH_PIPELINE_EXECUTION_MUTATION, variables={"executionParams": {
        "selector": {"repositoryLocationName": location.name, "repositoryName": repo.name, "pipelineName": "citystat_all",
                     "assetSelection": [k.to_graphql_input() for k in keys]},
        "runConfigData": {}}})
    launched = result.data["launchPipelineExecution"]
    assert launched["__typename"] == "LaunchRunSuccess", launched
    run_id = launched["run"]["runId"]
    if instance.get_run_by_id(run_id).status == DagsterRunStatus.QUEUED:
        instance.launch_run(run_id, context)  # what the daemon's queued-run coordinator does
    while not instance.get_run_by_id(run_id).is_finished:
        time.sleep(1)
    Path(sys.argv[1]).write_text(instance.get_run_by_id(run_id).status.value)  # stdout is shared with the run worker
"""


@pytest.mark.timeout(1200)
def test_ui_launch_and_citystat_run_give_the_same_snapshot(tmp_path):
    env_cli = small_city(tmp_path / "cli")
    env_ui = pipeline_env(tmp_path / "ui")
    shutil.copytree(tmp_path / "cli" / "city", tmp_path / "ui" / "city")

    cli = citystat(env_cli, "run", "--no-dashboards", check=False)
    assert cli.returncode == 0, cli.stdout[-3000:] + cli.stderr[-3000:]
    assert "full log: " in cli.stdout
    assert "Traceback" not in cli.stdout + cli.stderr

    status = tmp_path / "ui" / "status"
    ui = subprocess.run([sys.executable, "-c", UI_LAUNCH, str(status)], cwd=ROOT, env=env_ui, capture_output=True, text=True,
                        timeout=800)
    assert ui.returncode == 0 and status.read_text() == "SUCCESS", ui.stdout[-3000:] + ui.stderr[-3000:]

    snapshot = lambda base: base / "warehouse" / "citystat.duckdb"  # noqa: E731
    lineage = ("_load_id", "_extracted_at")  # when each build landed the data: differs between any two builds
    assert mart_digest(snapshot(tmp_path / "ui"), lineage) == mart_digest(snapshot(tmp_path / "cli"), lineage)
    with open_instance(env_cli) as instance:  # the CLI's run is a job run of the code location, like the UI's
        [record] = instance.get_run_records()
        run = record.dagster_run
        assert run.job_name == "citystat_all" and run.status.value == "SUCCESS"
        assert run.tags["dagster/code_location"] == "citystat" and run.remote_job_origin is not None
    log = tmp_path / "cli" / "warehouse" / "logs" / f"run-{run.run_id}.log"
    assert log.exists() and "dbt_models" in log.read_text() and str(log) in cli.stdout.replace("\n", "")


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
def test_sigint_during_a_blocking_check_fails_closed(tmp_path):
    env = small_city(tmp_path)
    first = citystat(env, "run", "--no-dashboards", check=False)  # a published snapshot to keep intact
    assert first.returncode == 0, first.stdout[-3000:]
    snapshot = tmp_path / "warehouse" / "citystat.duckdb"
    before = (snapshot.stat().st_mtime_ns, mart_digest(snapshot))

    proc = start_citystat(env, "run", "--no-dashboards", "--full-refresh", log=tmp_path / "second.out")
    run_id = wait_for_step_start(env, "mart_gx_suites", proc, timeout=600)
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
