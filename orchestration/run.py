"""`citystat run`: one run of the job `citystat_all`, launched through the Dagster instance the way the UI does.

The code location is loaded as a workspace (a code server process, like `dagster dev`), the run is created
from the remote job (so it carries the location/repository tags and shows on the job's page with its whole
event log) and handed to the instance's run launcher directly (no queue, so no daemon is needed). The run
worker is its own process; this module follows the run's event log until it ends.

* Before launching, runs whose worker died are failed and their pool slots freed (lib/recovery.py).
* The worker's output (Dagster's event log, dbt's log) goes to `<warehouse>/logs/run-<run_id>.log`, not the
  console: the caller gets progress callbacks and a summary (failed steps, failed checks, held-back assets).
* SIGINT/SIGTERM terminate the run through the run launcher and wait for it to end (fail closed: a step that
  was interrupted, a blocking check included, lets nothing downstream run).
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
from orchestration.lib.instance import create_storage, dagster_home

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


# ---------------------------------------------------------------------------------------------------- launching


@contextlib.contextmanager
def workspace(instance) -> Iterator:
    """The code location loaded the way `dagster dev` loads it (a code server subprocess)."""
    from dagster._core.workspace.context import WorkspaceProcessContext
    from dagster._core.workspace.load_target import ModuleTarget

    target = ModuleTarget(module_name="orchestration.definitions", attribute=None,
                          working_directory=str(project_root()), location_name=LOCATION_NAME)
    with WorkspaceProcessContext(instance, target) as context:
        request_context = context.create_request_context()
        location = request_context.get_code_location(LOCATION_NAME)  # raises with the load error if it failed
        yield request_context, location


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
           on_event: Callable[[str, str], None]) -> None:
    """Read the run's event log until the run ends; terminate it through the instance on an interrupt."""
    from dagster import DagsterEventType

    from orchestration.lib.recovery import fail_if_worker_gone

    cursor, terminate_sent, deadline, next_health_check = None, False, None, time.monotonic() + 5
    while True:
        if interrupts.received and not terminate_sent:
            terminate_sent, outcome.interrupted = True, True
            deadline = time.monotonic() + TERMINATE_WAIT_SECONDS
            on_event("interrupt", "terminating the run")
            if not instance.run_launcher.terminate(run_id):
                run = instance.get_run_by_id(run_id)
                if run is not None and not run.is_finished:  # no code server to ask: fail it so nothing waits on it
                    instance.report_run_canceled(run, "citystat run was interrupted and could not reach the run worker")
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
            instance.report_run_failed(run, "citystat run was interrupted and the run did not stop in time")
            continue
        if time.monotonic() > next_health_check:  # a killed worker never writes its run's end
            next_health_check = time.monotonic() + 5
            if reason := fail_if_worker_gone(instance, run_id):
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
    from dagster import DagsterInstance
    from dagster._core.utils import make_new_run_id

    from orchestration.lib.recovery import BOOT_ID_TAG, boot_id

    run_id = make_new_run_id()
    log_path = warehouse_dir() / "logs" / f"run-{run_id}.log"
    tags = {"citystat/entry": "citystat run"}
    if boot_id():
        tags[BOOT_ID_TAG] = boot_id()
    with DagsterInstance.get() as instance, output_to(log_path):
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
    from orchestration.lib.recovery import recover_stale_runs

    create_storage(instance)  # before the code server opens the same instance (see create_storage)
    recovered = recover_stale_runs(instance)
    with _Interrupts() as interrupts, workspace(instance) as (context, location):
        run, total, keys = create_run(instance, location, request, run_id, tags)
        outcome = RunOutcome(run_id=run_id, status=run.status.value, log_path=log_path, total_assets=total,
                             recovered=recovered)
        on_launch(outcome)
        if interrupts.received:  # interrupted while loading: never start it
            instance.report_run_canceled(run, "citystat run was interrupted before the run started")
            outcome.interrupted, outcome.status = True, "CANCELED"
            return outcome
        instance.launch_run(run_id, context)
        follow(instance, run_id, outcome, interrupts, on_event)
    outcome.held_back = sorted(k.to_user_string() for k in keys if k.to_user_string() not in outcome.materialized)
    return outcome
