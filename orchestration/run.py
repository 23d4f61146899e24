"""Headless runs of the whole pipeline (`citystat run`): the stage jobs of the code location, in order,
on a persistent Dagster instance so every run also shows in the UI.

Stages run as separate jobs because ingestion is unpartitioned while the large dbt models are daily
partitioned (a whole-history run passes the partition range as tags, one single-run backfill). A
source that fails its asset does not stop the others; later stages still run on what landed, and the
run's exit status says what failed.
"""
from __future__ import annotations

import os
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

from citystat.settings import project_root

# (job name in the code location, what it does) in run order
STAGES: list[tuple[str, str]] = [
    ("ingest_all", "land new data from every inventoried source"),
    ("source_health_checks", "quality: schema drift, missing exports and freshness of every source"),
    ("transform_upstream", "dbt: seeds, reference staging, dimensions"),
    ("transform_daily", "dbt: incremental staging and facts (daily partitions)"),
    ("transform_downstream", "dbt: marts and kpi_values"),
    ("metrics_all", "KPI status, flags, goals, contracts, budget, quality"),
    ("publish_all", "publish the snapshot, build the dashboards"),
]


@dataclass
class StageResult:
    job: str
    run_id: str
    success: bool
    materialized: list[str] = field(default_factory=list)
    failed_steps: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    seconds: float = 0.0
    blocked_by: set = field(default_factory=set)  # assets whose blocking check failed in this stage
    skipped: list[str] = field(default_factory=list)  # left out: downstream of a failed blocking check


# One writer at a time on the DuckDB warehouse: every writer asset is in the `warehouse_writer` pool, and
# each pool admits one step at a time (also under `dagster dev`'s multiprocess executor).
INSTANCE_CONFIG = """\
concurrency:
  pools:
    granularity: op
    default_limit: 1
telemetry:
  enabled: false
"""


def dagster_home() -> Path:
    """DAGSTER_HOME, defaulting to `<repo>/.dagster_home` (the same one `make ui` uses), with its dagster.yaml."""
    home = Path(os.environ.get("DAGSTER_HOME") or project_root() / ".dagster_home")
    home.mkdir(parents=True, exist_ok=True)
    config = home / "dagster.yaml"
    if not config.exists():
        config.write_text(INSTANCE_CONFIG)
    os.environ["DAGSTER_HOME"] = str(home)
    return home


def _watch(instance, run_id: str, on_event, stop: threading.Event) -> None:
    """Report each asset materialization of a running job (progress for the CLI)."""
    from dagster import DagsterEventType

    cursor = None
    while True:
        done = stop.is_set()
        try:
            conn = instance.get_records_for_run(run_id, cursor=cursor, of_type=DagsterEventType.ASSET_MATERIALIZATION)
        except Exception:  # run not created yet
            conn = None
        if conn is not None:
            cursor = conn.cursor
            for record in conn.records:
                on_event(record.event_log_entry.dagster_event.asset_key.to_user_string())
        if done:
            return
        stop.wait(0.5)


def _partition_range_tags(job, partitions_def, instance, full_refresh: bool) -> dict[str, str]:
    """The days a run covers: from the day after the last one materialized through today.

    The incremental models select their input by what landed since their last run, so one run always
    processes everything new whatever days it is recorded on. A first build (or a full refresh) is
    recorded on the latest day only: recording ~1,200 days of history x every daily model costs
    Dagster's event log minutes for nothing. Older days stay available for targeted backfills (e.g.
    reprocessing a date range after a rule change) from the UI.
    """
    keys = partitions_def.get_partition_keys(dynamic_partitions_store=instance)
    if not keys:
        return {}
    first = keys[-1]
    if not full_refresh:
        done = set()
        for key in job.asset_layer.executable_asset_keys:
            done |= set(instance.get_materialized_partitions(key))
        if done:
            later = [k for k in keys if k > max(done)]
            first = later[0] if later else keys[-1]
    return {"dagster/asset_partition_range_start": first, "dagster/asset_partition_range_end": keys[-1]}


QUIET_CONSOLE = {"loggers": {"console": {"config": {"log_level": "WARNING"}}}}


def _descendants(defs, keys: set) -> set:
    graph = defs.resolve_asset_graph()
    seen, stack = set(), list(keys)
    while stack:
        for child in graph.get(stack.pop()).child_keys:
            if child not in seen:
                seen.add(child)
                stack.append(child)
    return seen


def run_stage(defs, instance, job_name: str, full_refresh: bool = False, on_event=None,
              skip_prefixes: tuple[str, ...] = (), blocked: set | None = None) -> StageResult:
    """Run one stage job, leaving out assets under `skip_prefixes` and everything downstream of `blocked`."""
    from dagster import DagsterEventType

    job = defs.resolve_job_def(job_name)
    keys = job.asset_layer.executable_asset_keys
    held_back = _descendants(defs, blocked) if blocked else set()
    kept = [key for key in keys if key.path[0] not in skip_prefixes and key not in held_back]
    selection = kept if len(kept) < len(keys) else None
    if selection is not None and not selection:
        return StageResult(job=job_name, run_id="", success=True,
                           skipped=sorted(k.to_user_string() for k in keys if k in held_back))
    tags = {"citystat/entry": "citystat run"}
    if full_refresh:
        tags["citystat/full_refresh"] = "true"
    partitions_def = getattr(job, "partitions_def", None)
    if partitions_def is not None:
        tags.update(_partition_range_tags(job, partitions_def, instance, full_refresh))
    run_id = str(uuid.uuid4())
    stop = threading.Event()
    watcher = threading.Thread(target=_watch, args=(instance, run_id, on_event or (lambda key: None), stop), daemon=True)
    watcher.start()
    started = time.monotonic()
    try:
        # The CLI shows progress and the failures; the full event log stays in the instance (`make ui`)
        result = job.execute_in_process(instance=instance, raise_on_error=False, run_id=run_id, tags=tags,
                                        asset_selection=selection, run_config=QUIET_CONSOLE)
    finally:
        stop.set()
        watcher.join(timeout=10)
    stage = StageResult(job=job_name, run_id=run_id, success=result.success, seconds=time.monotonic() - started,
                        skipped=sorted(k.to_user_string() for k in keys if k in held_back))
    for event in result.all_events:
        if event.event_type == DagsterEventType.ASSET_MATERIALIZATION:
            stage.materialized.append(event.asset_key.to_user_string())
        elif event.event_type == DagsterEventType.ASSET_CHECK_EVALUATION:
            evaluation = event.event_specific_data
            if not evaluation.passed and evaluation.blocking and evaluation.severity.value == "ERROR":
                stage.blocked_by.add(evaluation.asset_key)
                stage.errors.append(f"blocking check {evaluation.asset_key.to_user_string()}:{evaluation.check_name} failed"
                                    f"{': ' + evaluation.description if evaluation.description else ''}")
        elif event.event_type == DagsterEventType.STEP_FAILURE:
            stage.failed_steps.append(event.step_key)
            error = event.step_failure_data.error
            message = error.message.strip() if error else "failed"
            while error is not None and error.cause is not None:  # the root cause names the source and the reason
                error = error.cause
                message = error.message.strip()
            stage.errors.append(f"{event.step_key}: {message}")
    return stage


def run_pipeline(stages: list[str] | None = None, full_refresh: bool = False, on_stage=None, on_event=None,
                 skip_prefixes: tuple[str, ...] = ()) -> list[StageResult]:
    """Run the stage jobs in order (all by default), leaving out assets whose key starts with `skip_prefixes`."""
    dagster_home()
    from dagster import DagsterInstance

    from orchestration.definitions import defs

    results = []
    # A blocking check that fails holds back everything downstream of its asset in the later stages
    # too: each stage is its own Dagster run, so Dagster's in-run blocking alone would not reach them.
    blocked: set = set()
    with DagsterInstance.get() as instance:
        for job_name, description in STAGES:
            if stages and job_name not in stages:
                continue
            if on_stage:
                on_stage(job_name, description)
            stage = run_stage(defs, instance, job_name, full_refresh=full_refresh, on_event=on_event,
                              skip_prefixes=skip_prefixes, blocked=blocked)
            blocked |= stage.blocked_by
            results.append(stage)
    return results
