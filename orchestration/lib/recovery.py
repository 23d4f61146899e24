"""Runs whose worker is gone (SIGKILL, OOM, reboot) are reported failed and give back their pool slots.

Without this a killed run stays STARTED and keeps its `warehouse_writer` slot: the next run waits on the pool
forever. `citystat run` calls `recover_stale_runs` before it launches, the `stale_run_recovery` sensor every
minute (deployments without run monitoring), and Dagster's own run monitoring does the same under the daemon.

A run is stale when its worker process (the pid of its "Started process for run" engine event) is not alive,
or is alive but is another program, or was started after the event (pid reused, e.g. after a reboot), or the
run was launched on another boot. A run that never reported a pid is stale after a grace period.
"""
from __future__ import annotations

import os
import time
from dataclasses import dataclass
from pathlib import Path

BOOT_ID_TAG = "citystat/boot_id"
START_GRACE_SECONDS = 180  # a run may take this long from launch to its worker's pid event
QUEUED_MAX_AGE_SECONDS = 6 * 3600  # a queued run this old has no coordinator dequeuing it


@dataclass
class StaleRun:
    run_id: str
    job: str
    status: str
    reason: str


def boot_id() -> str | None:
    try:
        return Path("/proc/sys/kernel/random/boot_id").read_text().strip()
    except OSError:
        return None


def _process_start_time(pid: int) -> float | None:
    """Wall-clock start of a process from /proc (Linux); None where /proc is not available."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
        boot = next(float(line.split()[1]) for line in Path("/proc/stat").read_text().splitlines() if line.startswith("btime"))
    except (OSError, StopIteration):
        return None
    fields = stat[stat.rindex(")") + 2:].split()  # after "pid (comm) "
    if fields[0] == "Z":  # a zombie has exited
        return -1.0
    return boot + int(fields[19]) / os.sysconf("SC_CLK_TCK")


def worker_alive(pid: int, started_at: float) -> bool:
    """Is `pid` still the run worker that reported it at `started_at` (epoch seconds)?"""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, another user's: not our worker
        return False
    proc = Path(f"/proc/{pid}")
    if not proc.exists():  # no /proc (not Linux): existence is all we can tell
        return True
    try:
        cmdline = (proc / "cmdline").read_bytes()
    except OSError:
        return False
    if b"python" not in cmdline and b"dagster" not in cmdline:
        return False
    start = _process_start_time(pid)
    if start is None:
        return True
    return 0 <= start <= started_at + 2  # started after the event: the pid was reused


def worker_pid(instance, run_id: str) -> tuple[int, float] | None:
    """(pid, when it was reported) from the run's last "Started process for run" engine event."""
    from dagster import DagsterEventType

    found = None
    cursor = None
    while True:
        conn = instance.get_records_for_run(run_id, cursor=cursor, of_type=DagsterEventType.ENGINE_EVENT, limit=500)
        for record in conn.records:
            entry = record.event_log_entry
            data = entry.dagster_event.event_specific_data if entry.dagster_event else None
            metadata = getattr(data, "metadata", None) or {}
            message = (entry.dagster_event.message if entry.dagster_event else None) or entry.user_message
            if "pid" in metadata and message.startswith("Started process for run"):
                found = (int(metadata["pid"].value), entry.timestamp)
        if not conn.has_more:
            return found
        cursor = conn.cursor


def _why_stale(instance, record, now: float) -> str | None:
    from dagster import DagsterRunStatus

    run = record.dagster_run
    created = record.create_timestamp.timestamp()
    if run.status == DagsterRunStatus.QUEUED:
        age = now - created
        return f"queued for {age / 3600:.1f} h with nothing dequeuing it" if age > QUEUED_MAX_AGE_SECONDS else None
    launched_on = run.tags.get(BOOT_ID_TAG)
    if launched_on and boot_id() and launched_on != boot_id():
        return "launched before the machine restarted"
    worker = worker_pid(instance, run.run_id)
    if worker is None:
        age = now - created
        return f"no worker process reported after {age:.0f} s" if age > START_GRACE_SECONDS else None
    pid, started_at = worker
    return None if worker_alive(pid, started_at) else f"its worker process (pid {pid}) is gone"


def recover_stale_runs(instance) -> list[StaleRun]:
    """Report every run whose worker is gone as failed and free its concurrency slots; returns what it did.

    Also frees slots still held by runs that already ended (e.g. failed by hand from the UI).
    """
    from dagster import DagsterRunStatus, RunsFilter

    now = time.time()
    recovered = []
    active = [DagsterRunStatus.STARTING, DagsterRunStatus.STARTED, DagsterRunStatus.CANCELING, DagsterRunStatus.QUEUED]
    for record in instance.get_run_records(filters=RunsFilter(statuses=active)):
        reason = _why_stale(instance, record, now)
        if reason is None:
            continue
        run = record.dagster_run
        instance.report_run_failed(run, f"Marked failed by citystat's stale-run recovery: {reason}.")
        _free_slots(instance, run.run_id)
        recovered.append(StaleRun(run.run_id, run.job_name, run.status.value, reason))
    _free_slots_of_ended_runs(instance)
    return recovered


def fail_if_worker_gone(instance, run_id: str) -> str | None:
    """For a runner following one run: if the run's worker died, fail the run and free its slots (the reason)."""
    worker = worker_pid(instance, run_id)
    if worker is None or worker_alive(*worker):
        return None
    run = instance.get_run_by_id(run_id)
    if run is None or run.is_finished:
        return None
    reason = f"its worker process (pid {worker[0]}) is gone"
    instance.report_run_failed(run, f"Marked failed by citystat's stale-run recovery: {reason}.")
    _free_slots(instance, run_id)
    return reason


def _free_slots(instance, run_id: str) -> None:
    storage = instance.event_log_storage
    if storage.supports_global_concurrency_limits:
        storage.free_concurrency_slots_for_run(run_id)


def _free_slots_of_ended_runs(instance) -> None:
    storage = instance.event_log_storage
    if not storage.supports_global_concurrency_limits:
        return
    holders = set()
    for key in storage.get_concurrency_keys():
        info = storage.get_concurrency_info(key)
        holders |= {slot.run_id for slot in info.claimed_slots} | {step.run_id for step in info.pending_steps}
    for run_id in holders:
        run = instance.get_run_by_id(run_id)
        if run is None or run.is_finished:
            _free_slots(instance, run_id)
