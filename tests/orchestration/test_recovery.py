"""A run killed at any moment never blocks the next one: `citystat run` fails the dead run and frees its slots."""
import os
import signal
import time
from pathlib import Path

import pytest

from pipeline_helpers import citystat, open_instance, small_city, start_citystat, wait_for_step_start

pytestmark = pytest.mark.slow


def _descendants(pid: int) -> list[int]:
    children = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            children += [int(c) for c in (task / "children").read_text().split()]
        except OSError:
            pass
    return children + [d for c in children for d in _descendants(c)]


def _run_until_step(tmp_path: Path, step_key: str, timeout: float):
    """A small city's `citystat run`, followed until `step_key` starts: (env, the CLI's process, run id, worker pid)."""
    from orchestration.lib.recovery import worker_pid

    env = small_city(tmp_path)
    proc = start_citystat(env, "run", "--no-dashboards", log=tmp_path / "killed.out")
    run_id = wait_for_step_start(env, step_key, proc, timeout=timeout)
    with open_instance(env) as instance:
        pid, _ = worker_pid(instance, run_id)
    return env, proc, run_id, pid


@pytest.mark.timeout(1200)
def test_sigkill_during_dbt_then_plain_run_succeeds(tmp_path):
    env, proc, run_id, pid = _run_until_step(tmp_path, "dbt_models", timeout=600)
    time.sleep(2)  # dbt is writing
    # kill everything at once, as an OOM kill or a power cut would: the CLI, its code server, the worker, dbt
    victims = [proc.pid, *_descendants(proc.pid), pid, *_descendants(pid)]
    for victim in victims:
        try:
            os.kill(victim, signal.SIGKILL)
        except ProcessLookupError:
            pass
    proc.wait(timeout=30)
    with open_instance(env) as instance:
        assert instance.get_run_by_id(run_id).status.value == "STARTED"  # nothing reported its end
        holders = [s.run_id for s in instance.event_log_storage.get_concurrency_info("warehouse_writer").claimed_slots]
        assert holders == [run_id]  # the dead run holds the warehouse writer slot

    again = citystat(env, "run", "--no-dashboards", check=False)
    assert again.returncode == 0, again.stdout[-3000:] + again.stderr[-3000:]
    assert run_id in again.stdout  # it says which run it marked failed
    with open_instance(env) as instance:
        assert instance.get_run_by_id(run_id).status.value == "FAILURE"
        assert instance.event_log_storage.get_concurrency_info("warehouse_writer").claimed_slots == []


@pytest.mark.timeout(600)
def test_the_worker_stops_when_citystat_run_is_killed(tmp_path):
    """kill -9 of `citystat run` alone (a user's, or a test's timeout): its forked worker must not go on building."""
    env, proc, run_id, pid = _run_until_step(tmp_path, "raw__crm311__service_requests", timeout=300)
    os.kill(proc.pid, signal.SIGKILL)  # the CLI only: the worker is left to the kernel's parent-death signal
    proc.wait(timeout=30)
    deadline = time.monotonic() + 120
    while Path(f"/proc/{pid}").exists() and time.monotonic() < deadline:
        time.sleep(0.5)
    assert not Path(f"/proc/{pid}").exists() or Path(f"/proc/{pid}/stat").read_text().split()[2] == "Z", \
        "the run worker outlived `citystat run`"
    with open_instance(env) as instance:
        run = instance.get_run_by_id(run_id)
        assert run.status.value == "FAILURE"  # Dagster's interrupt ended it
        assert instance.event_log_storage.get_concurrency_info("warehouse_writer").claimed_slots == []


@pytest.mark.timeout(120)
def test_recovery_leaves_live_runs_and_fails_dead_ones(tmp_path):
    """Unit level: a STARTED run whose worker pid is alive stays; one whose pid is gone is failed, slots freed."""
    import subprocess
    import sys

    import dagster as dg
    from dagster._core.events import EngineEventData

    from orchestration.lib.recovery import recover_stale_runs

    with dg.instance_for_test(overrides={"concurrency": {"pools": {"default_limit": 1, "granularity": "op"}}}) as instance:
        dead = subprocess.Popen([sys.executable, "-c", "pass"])
        dead.wait()
        live = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
        try:
            runs = {}
            for name, pid in (("dead", dead.pid), ("live", live.pid)):
                run = instance.create_run_for_job(dg.GraphDefinition(name="g", node_defs=[]).to_job(name=f"job_{name}"))
                instance.handle_run_event(run.run_id, dg.DagsterEvent(event_type_value="PIPELINE_START", job_name=run.job_name))
                instance.report_engine_event(f"Started process for run (pid: {pid}).", run, EngineEventData.in_process(pid))
                runs[name] = run.run_id
            instance.event_log_storage.set_concurrency_slots("warehouse_writer", 1)
            instance.event_log_storage.claim_concurrency_slot("warehouse_writer", runs["dead"], "dead_step")
            assert len(instance.event_log_storage.get_concurrency_info("warehouse_writer").claimed_slots) == 1
            recovered = recover_stale_runs(instance)
            assert [r.run_id for r in recovered] == [runs["dead"]]
            assert instance.get_run_by_id(runs["dead"]).status == dg.DagsterRunStatus.FAILURE
            assert instance.get_run_by_id(runs["live"]).status == dg.DagsterRunStatus.STARTED
            assert instance.event_log_storage.get_concurrency_info("warehouse_writer").claimed_slots == []
        finally:
            live.kill()


@pytest.mark.timeout(180)
def test_stale_run_recovery_sensor_fails_a_dead_run():
    """The sensor in the code location (for deployments without run monitoring) calls the same recovery."""
    import subprocess
    import sys

    import dagster as dg
    from dagster._core.events import EngineEventData

    from orchestration.definitions import defs

    with dg.instance_for_test() as instance:
        dead = subprocess.Popen([sys.executable, "-c", "pass"])
        dead.wait()
        run = instance.create_run_for_job(dg.GraphDefinition(name="g", node_defs=[]).to_job(name="job_dead"))
        instance.handle_run_event(run.run_id, dg.DagsterEvent(event_type_value="PIPELINE_START", job_name=run.job_name))
        instance.report_engine_event(f"Started process for run (pid: {dead.pid}).", run, EngineEventData.in_process(dead.pid))
        sensor = defs.get_sensor_def("stale_run_recovery")
        result = sensor.evaluate_tick(dg.build_sensor_context(instance=instance))
        assert result.skip_message == "recovered 1 stale run(s)"
        assert instance.get_run_by_id(run.run_id).status == dg.DagsterRunStatus.FAILURE
