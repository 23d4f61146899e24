"""`citystat run`: one run of the job `citystat_all` in the Dagster instance, created the way the UI creates it.

The code location is loaded once, in this process (Dagster's in-process code location; loading it takes ~14 s).
The run is created from the remote job (so it carries the location/repository tags and shows on the job's page
with its whole event log), then executed by a run worker forked from this process, which reuses the definitions
already in memory instead of loading them a second time (a code server's run worker is a fresh interpreter that
imports everything again). The worker runs Dagster's own run-worker routine (the "Started process for run"
event with its pid, then the run); this module follows the run's event log until it ends.

* Before launching, runs whose worker died are failed and their pool slots freed (lib/recovery.py).
* The worker's output (Dagster's event log, dbt's log) goes to `<warehouse>/logs/run-<run_id>.log`, not the
  console: the caller gets progress callbacks and a summary (failed steps, failed checks, held-back assets).
* SIGINT/SIGTERM mark the run CANCELING and wait for it to end; the worker interrupts itself when it sees that
  status, which is also what "Terminate" in the UI does (fail closed: a step that was interrupted, a blocking
  check included, lets nothing downstream run).
"""
from __future__ import annotations

import contextlib
import os
import re
import signal
import sys
import time
import traceback
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from citystat.settings import project_root, warehouse_dir
from orchestration.lib.instance import dagster_home, open_instance

JOB_NAME = "citystat_all"
LOCATION_NAME = "citystat"  # as in pyproject's [tool.dagster], so `dagster dev` shows the same location
DASHBOARDS_KEY = "dashboards/site"
DBT_OP = "dbt_models"
TERMINATE_WAIT_SECONDS = 120
EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 130


class UnknownSelection(ValueError):
    """A --select that names nothing in the graph; the message lists the valid groups and key prefixes."""


class LaunchError(RuntimeError):
    """The runner itself failed (e.g. the code location did not load); the traceback is in the log."""


@dataclass
class RunRequest:
    select: str | None = None  # Dagster selection syntax: group:metrics, key:raw/crm311/*, +marts/fct_x
    full_refresh: bool = False
    reprocess_from: str | None = None
    reprocess_to: str | None = None
    dashboards: bool = True


@dataclass
class RunOutcome:
    run_id: str
    status: str
    log_path: Path
    total_assets: int
    materialized: set[str] = field(default_factory=set)
    failed_steps: list[tuple[str, str]] = field(default_factory=list)  # (step, root-cause message)
    failed_checks: list[tuple[str, str, str, str]] = field(default_factory=list)  # (asset, check, severity, description)
    held_back: list[str] = field(default_factory=list)  # selected assets that did not materialize
    recovered: list = field(default_factory=list)  # stale runs failed before this one started
    interrupted: bool = False
    steps_succeeded: set[str] = field(default_factory=set)
    steps_with_output: set[str] = field(default_factory=set)
    kept: list[str] = field(default_factory=list)  # assets that found their inputs unchanged (metadata rebuilt=False)

    @property
    def up_to_date(self) -> bool:
        """The dbt step found nothing new to build (lib/dbt_inputs.py), so what follows it did not need to run."""
        return DBT_OP in self.steps_succeeded and DBT_OP not in self.steps_with_output

    @property
    def exit_code(self) -> int:
        if self.interrupted:
            return EXIT_INTERRUPTED
        error_checks = [c for c in self.failed_checks if c[2] == "ERROR"]
        return EXIT_OK if self.status == "SUCCESS" and not self.failed_steps and not error_checks else EXIT_FAILED


# ---------------------------------------------------------------------------------------------------- selection


def valid_choices(asset_graph) -> str:
    groups = sorted({asset_graph.get(key).group_name for key in asset_graph.materializable_asset_keys} - {None})
    prefixes = sorted({key.path[0] for key in asset_graph.materializable_asset_keys})
    return (f"groups: {', '.join('group:' + g for g in groups)}\n"
            f"key prefixes: {', '.join('key:' + p + '/*' for p in prefixes)}")


def resolve_selection(asset_graph, request: RunRequest) -> set | None:
    """The asset keys to run, or None for the whole job. Raises UnknownSelection when --select names nothing."""
    import dagster as dg

    if request.select:
        try:
            keys = set(dg.AssetSelection.from_string(request.select).resolve(asset_graph))
        except Exception as error:  # parse errors and unknown keys alike
            raise UnknownSelection(f"--select {request.select!r}: {error}\n{valid_choices(asset_graph)}") from None
        keys &= asset_graph.materializable_asset_keys
        if not keys:
            raise UnknownSelection(f"--select {request.select!r} selects no asset\n{valid_choices(asset_graph)}")
    else:
        keys = None
    if not request.dashboards:
        keys = (keys if keys is not None else set(asset_graph.materializable_asset_keys)) - {dg.AssetKey.from_user_string(DASHBOARDS_KEY)}
        if not keys:
            raise UnknownSelection(f"--select {request.select!r} --no-dashboards leaves nothing to run")
    return keys


def run_config(request: RunRequest, dbt_selected: bool) -> dict:
    """The dbt step's DbtBuildConfig when a flag asks for something else than the defaults."""
    config = {"full_refresh": request.full_refresh, "reprocess_from": request.reprocess_from,
              "reprocess_to": request.reprocess_to}
    config = {k: v for k, v in config.items() if v}
    if not config:
        return {}
    if not dbt_selected:
        raise UnknownSelection("--full-refresh / --reprocess-* apply to the dbt models, which the selection leaves out")
    return {"ops": {DBT_OP: {"config": config}}}


def full_refresh_requested(config: dict) -> bool:
    """Whether a run's config (from `citystat run --full-refresh`, or the launchpad) asks the dbt step for a full
    refresh: the steps after it that keep unchanged outputs (the open-data exports) then rewrite them too."""
    return bool(((config.get("ops") or {}).get(DBT_OP) or {}).get("config", {}).get("full_refresh"))


# ---------------------------------------------------------------------------------------------------- launching


def in_process_location(instance):
    """The code location loaded in this process, under the same location name as `dagster dev` shows it."""
    from dagster._core.remote_origin import InProcessCodeLocationOrigin
    from dagster._core.types.loadable_target_origin import LoadableTargetOrigin

    target = LoadableTargetOrigin(executable_path=sys.executable, module_name="orchestration.definitions",
                                  working_directory=str(project_root()))
    return InProcessCodeLocationOrigin(target, location_name=LOCATION_NAME).create_location(instance)


def create_run(instance, location, request: RunRequest, run_id: str, tags: dict):
    """Create the run from the remote job, as the UI's launchpad does (execution plan, snapshots, origins)."""
    from dagster._core.definitions.selector import JobSubsetSelector

    repo = next(iter(location.get_repositories().values()))
    asset_graph = repo.asset_graph
    keys = resolve_selection(asset_graph, request)
    selector = JobSubsetSelector(location_name=location.name, repository_name=repo.name, job_name=JOB_NAME,
                                 op_selection=None, asset_selection=keys)
    remote_job = location.get_job(selector)
    config = run_config(request, dbt_selected=DBT_OP in remote_job.node_names)
    plan = location.get_execution_plan(remote_job, config, step_keys_to_execute=None, known_state=None,
                                       instance=instance)
    run = instance.create_run(
        job_name=JOB_NAME, run_id=run_id, run_config=config,
        resolved_op_selection=remote_job.resolved_op_selection, step_keys_to_execute=None, op_selection=None,
        status=None, root_run_id=None, parent_run_id=None, tags={**remote_job.tags, **tags},
        job_snapshot=remote_job.job_snapshot, execution_plan_snapshot=plan.execution_plan_snapshot,
        parent_job_snapshot=remote_job.parent_job_snapshot, remote_job_origin=remote_job.get_remote_origin(),
        job_code_origin=remote_job.get_python_origin(), asset_selection=frozenset(keys) if keys is not None else None,
        asset_check_selection=None, asset_graph=asset_graph,
    )
    total = len(keys) if keys is not None else len(asset_graph.materializable_asset_keys)
    return run, total, keys if keys is not None else set(asset_graph.materializable_asset_keys)


class RunWorker:
    """The run's worker: a child forked from this process once the definitions are loaded, so it does not load them
    again. It runs Dagster's run-worker routine (dagster._grpc.impl.start_run_in_subprocess: the pid event the
    stale-run recovery reads, SIGINT/SIGTERM as execution interrupts, the run failed if it breaks) and interrupts
    itself when the run is marked CANCELING (by this runner on Ctrl-C, or by "Terminate" in the UI)."""

    POLL_SECONDS = 1.0

    def __init__(self, instance, location, run):
        import multiprocessing

        from dagster._grpc.types import ExecuteExternalJobArgs
        from dagster._serdes import serialize_value

        repo_name = next(iter(location.get_repositories()))
        recon_job = location._get_reconstructable_repository(repo_name).get_reconstructable_job(run.job_name)
        recon_job.get_definition()  # in memory before the fork: the worker finds it there
        args = serialize_value(ExecuteExternalJobArgs(job_origin=run.remote_job_origin, run_id=run.run_id,
                                                      instance_ref=instance.get_ref()))
        sys.stdout.flush()
        self.process = multiprocessing.get_context("fork").Process(
            target=_work, args=(args, recon_job, run.run_id, instance.get_ref(), os.getpid()), name=f"citystat run worker {run.run_id}")

    def start(self) -> None:
        self.process.start()

    @property
    def exited(self) -> bool:
        return not self.process.is_alive()

    def kill(self) -> None:
        if self.process.is_alive():
            self.process.kill()
        self.process.join(timeout=10)


def _stop_with_parent(parent_pid: int) -> None:
    """Ask the kernel for SIGTERM when `citystat run` dies (kill -9, a test's timeout): an orphaned worker would go
    on building and hold the warehouse pool. Dagster turns the signal into an interrupt; the run ends failed."""
    import ctypes

    pr_set_pdeathsig = 1  # <linux/prctl.h>
    ctypes.CDLL(None, use_errno=True).prctl(pr_set_pdeathsig, signal.SIGTERM)
    if os.getppid() != parent_pid:  # the parent died before the request was made
        os.kill(os.getpid(), signal.SIGTERM)


def _work(serialized_args: str, recon_job, run_id: str, instance_ref, parent_pid: int) -> None:
    """The forked worker's body (its stdout/stderr are the run's log file, as the parent's fds 1 and 2 are)."""
    import multiprocessing
    import queue
    import threading

    from dagster import DagsterInstance, DagsterRunStatus
    from dagster._grpc.impl import start_run_in_subprocess

    _stop_with_parent(parent_pid)
    # Fresh file objects on fds 1/2: the parent's may be locked by its progress-bar thread at the fork.
    sys.stdout = open(1, "w", buffering=1, closefd=False)  # noqa: SIM115 - lives as long as the process
    sys.stderr = open(2, "w", buffering=1, closefd=False)  # noqa: SIM115
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, signal.SIG_DFL)  # not the parent's flag handler; Dagster installs its own below
    termination = multiprocessing.get_context("fork").Event()

    def watch_for_cancel() -> None:
        with DagsterInstance.from_ref(instance_ref) as instance:
            while not termination.wait(RunWorker.POLL_SECONDS):
                run = instance.get_run_by_id(run_id)
                if run is None or run.status == DagsterRunStatus.CANCELING:
                    termination.set()  # Dagster's termination thread turns this into an execution interrupt
                    return

    threading.Thread(target=watch_for_cancel, name="cancel-watcher", daemon=True).start()
    start_run_in_subprocess(serialized_args, recon_job, queue.SimpleQueue(), termination)


# ---------------------------------------------------------------------------------------------------- output


@contextlib.contextmanager
def output_to(log_path: Path) -> Iterator[None]:
    """Send this process's and its children's stdout/stderr (the code server, the run worker, dbt) to the log.

    `sys.stdout` stays on the terminal for the caller's progress and summary (rich writes to `sys.stdout`).
    """
    log_path.parent.mkdir(parents=True, exist_ok=True)
    sys.stdout.flush()
    sys.stderr.flush()
    saved_out, saved_err = os.dup(1), os.dup(2)
    saved_stdout = sys.stdout
    log = os.open(log_path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    os.dup2(log, 1)
    os.dup2(log, 2)
    os.close(log)
    sys.stdout = os.fdopen(os.dup(saved_out), "w", buffering=1)
    try:
        yield
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        sys.stdout.close()
        sys.stdout = saved_stdout
        os.dup2(saved_out, 1)
        os.dup2(saved_err, 2)
        os.close(saved_out)
        os.close(saved_err)


_CLASS_PREFIX = re.compile(r"^[A-Za-z_][\w.]*: ")


def _root_message(error) -> str:
    """The deepest message CityStat wrote for people (a dagster Failure's or a citystat error's: they name the dataset,
    the URL, the attempts and the time spent), else the root cause (a library's error names the reason)."""
    chain = []
    while error is not None:
        chain.append(error)
        error = error.cause
    if not chain:
        return "failed"
    spoken = [e for e in chain if e.cls_name == "Failure" or e.message.startswith("citystat.")]
    message = (spoken[-1] if spoken else chain[-1]).message.strip()
    if spoken:
        message = _CLASS_PREFIX.sub("", message, count=1)
    return message.splitlines()[0] if message else "failed"


# ---------------------------------------------------------------------------------------------------- following


class _Interrupts:
    """SIGINT/SIGTERM set a flag instead of raising: the loop terminates the run and waits for it."""

    def __init__(self):
        self.received = False
        self._saved = {}

    def __enter__(self):
        for sig in (signal.SIGINT, signal.SIGTERM):
            self._saved[sig] = signal.signal(sig, self._handle)
        return self

    def _handle(self, signum, frame):
        self.received = True

    def __exit__(self, *exc):
        for sig, handler in self._saved.items():
            signal.signal(sig, handler)


def follow(instance, run_id: str, outcome: RunOutcome, interrupts: _Interrupts,
           on_event: Callable[[str, str], None], worker: RunWorker) -> None:
    """Read the run's event log until the run ends; on an interrupt mark it CANCELING (the worker stops itself)."""
    from dagster import DagsterEventType

    from orchestration.lib.recovery import fail_if_worker_gone

    cursor, terminate_sent, deadline, next_health_check = None, False, None, time.monotonic() + 5
    while True:
        if interrupts.received and not terminate_sent:
            terminate_sent, outcome.interrupted = True, True
            deadline = time.monotonic() + TERMINATE_WAIT_SECONDS
            on_event("interrupt", "terminating the run")
            run = instance.get_run_by_id(run_id)
            if run is not None and not run.is_finished:
                instance.report_run_canceling(run, "citystat run was interrupted")
        connection = instance.get_records_for_run(run_id, cursor=cursor, limit=1000)
        cursor = connection.cursor
        for record in connection.records:
            event = record.event_log_entry.dagster_event
            if event is None:
                continue
            kind = event.event_type
            if kind == DagsterEventType.STEP_START:
                on_event("step", event.step_key)
            elif kind == DagsterEventType.STEP_SUCCESS:
                outcome.steps_succeeded.add(event.step_key)
            elif kind == DagsterEventType.STEP_OUTPUT:
                outcome.steps_with_output.add(event.step_key)
            elif kind == DagsterEventType.ASSET_MATERIALIZATION:
                key = event.asset_key.to_user_string()
                if key not in outcome.materialized:
                    outcome.materialized.add(key)
                    on_event("asset", key)
                rebuilt = event.step_materialization_data.materialization.metadata.get("rebuilt")
                if rebuilt is not None and rebuilt.value is False:
                    outcome.kept.append(key)
            elif kind == DagsterEventType.ASSET_CHECK_EVALUATION:
                check = event.event_specific_data
                if not check.passed:
                    outcome.failed_checks.append((check.asset_key.to_user_string(), check.check_name,
                                                  check.severity.value, (check.description or "").strip()))
            elif kind == DagsterEventType.STEP_FAILURE:
                outcome.failed_steps.append((event.step_key, _root_message(event.step_failure_data.error)))
            elif kind == DagsterEventType.RUN_FAILURE:
                error = getattr(event.event_specific_data, "error", None)
                if error is not None and not outcome.failed_steps:  # else it repeats a failed step's error
                    outcome.failed_steps.append(("run", _root_message(error)))
        if connection.has_more:
            continue
        run = instance.get_run_by_id(run_id)
        if run.is_finished:
            outcome.status = run.status.value
            return
        if deadline is not None and time.monotonic() > deadline:  # the worker does not answer: fail closed
            worker.kill()
            instance.report_run_failed(run, "citystat run was interrupted and the run did not stop in time")
            continue
        if time.monotonic() > next_health_check:  # a killed worker never writes its run's end
            next_health_check = time.monotonic() + 5
            if reason := fail_if_worker_gone(instance, run_id):
                on_event("worker_gone", reason)
                continue
            if worker.exited and not instance.get_run_by_id(run_id).is_finished:  # died before its pid event
                reason = f"its worker process exited with code {worker.process.exitcode} before the run ended"
                instance.report_run_failed(run, f"Marked failed by citystat run: {reason}.")
                on_event("worker_gone", reason)
                continue
        time.sleep(0.5)


def execute(request: RunRequest, on_event: Callable[[str, str], None] = lambda kind, detail: None,
            on_launch: Callable[[RunOutcome], None] = lambda outcome: None) -> RunOutcome:
    """Launch one run of `citystat_all` (see RunRequest) and follow it to its end.

    `on_event(kind, detail)` reports progress: ("step", step key), ("asset", asset key), ("interrupt", ...).
    `on_launch(outcome)` is called once the run exists (run id, log path, total assets).
    Raises UnknownSelection before anything runs when --select names nothing.
    """
    dagster_home()
    from dagster._core.utils import make_new_run_id

    from orchestration.lib.recovery import BOOT_ID_TAG, boot_id

    run_id = make_new_run_id()
    log_path = warehouse_dir() / "logs" / f"run-{run_id}.log"
    tags = {"citystat/entry": "citystat run"}
    if boot_id():
        tags[BOOT_ID_TAG] = boot_id()
    with open_instance() as instance, output_to(log_path):
        try:
            outcome = _launch_and_follow(instance, request, run_id, log_path, tags, on_event, on_launch)
        except UnknownSelection:
            log_path.unlink(missing_ok=True)  # refused: no run, no log
            raise
        except Exception as error:  # the console gets one line; the traceback goes to the log (stderr is the log here)
            traceback.print_exc()
            first = (str(error).strip().splitlines() or [""])[0]
            raise LaunchError(f"{type(error).__name__}: {first}\nfull log: {log_path}") from None
    return outcome


def _launch_and_follow(instance, request, run_id, log_path, tags, on_event, on_launch) -> RunOutcome:
    from dagster import DagsterEvent, DagsterEventType

    from orchestration.lib.recovery import recover_stale_runs

    recovered = recover_stale_runs(instance)
    with _Interrupts() as interrupts:
        location = in_process_location(instance)
        run, total, keys = create_run(instance, location, request, run_id, tags)
        outcome = RunOutcome(run_id=run_id, status=run.status.value, log_path=log_path, total_assets=total,
                             recovered=recovered)
        on_launch(outcome)
        if interrupts.received:  # interrupted while loading: never start it
            instance.report_run_canceled(run, "citystat run was interrupted before the run started")
            outcome.interrupted, outcome.status = True, "CANCELED"
            return outcome
        instance.report_dagster_event(DagsterEvent(event_type_value=DagsterEventType.PIPELINE_STARTING.value,
                                                   job_name=run.job_name), run_id=run_id)  # as instance.launch_run does
        try:
            worker = RunWorker(instance, location, run)
            worker.start()
        except Exception:  # as instance.launch_run does when its launcher fails: the run must not stay STARTING
            instance.report_run_failed(instance.get_run_by_id(run_id), "citystat run could not start the run worker")
            raise
        try:
            follow(instance, run_id, outcome, interrupts, on_event, worker)
        finally:
            worker.process.join(timeout=30)  # reap it; the run has ended, so it is exiting
    outcome.held_back = sorted(k.to_user_string() for k in keys if k.to_user_string() not in outcome.materialized)
    return outcome
