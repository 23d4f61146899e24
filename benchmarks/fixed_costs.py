"""Where a run's fixed time goes: process start-ups, imports, dbt parse, and the Dagster run's own overheads.

    .venv/bin/python benchmarks/fixed_costs.py                    # scale 0.05 city under /tmp/citystat-fixed-costs
    .venv/bin/python benchmarks/fixed_costs.py --scale 0.1 --work /tmp/fc --repeat 5

1. Start-ups, each in a fresh interpreter (median of --repeat): bare Python, the `citystat` CLI import, Dagster,
   Great Expectations, dbt, and the code location (orchestration.definitions: what `citystat run` loads once, its
   forked run worker reusing it); `dbt parse` of the project with a warm partial-parse cache and from scratch.
2. A real small city (generated first, not measured) run twice with `citystat run --no-dashboards`: the full
   build, then the same command with no new data (the run that is all fixed cost). From each run's own
   Dagster records: command start -> run created (CLI, code location, the run's planned events), run launched ->
   run worker started, the steps' own time, the time between and around steps (the executor and its event writes),
   run end -> command exit; the run's event count and the size of the SQLite event log and index.
3. The cost of one event-log write on this instance's SQLite storage: --events engine events written into a
   scratch run of a scratch instance, so the event count above converts into seconds.

Prints a table and writes benchmarks/out/fixed_costs.json with the machine's load average before and after.
Not a test: figures are reported, never asserted.
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "out" / "fixed_costs.json"
PYTHON = sys.executable
CITYSTAT = [PYTHON, "-m", "citystat.cli"]

IMPORTS = {
    "python start-up (python -c pass)": "pass",
    "import citystat.cli (the CLI)": "import citystat.cli",
    "import dagster": "import dagster",
    "import great_expectations": "import great_expectations",
    "import dbt.cli.main": "import dbt.cli.main",
    "load the code location (orchestration.definitions)": "import orchestration.definitions as d; d.defs",
}


def _env(work: Path) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CITYSTAT_", "DAGSTER_"))}
    env.update(CITYSTAT_DATA_DIR=str(work / "city"), CITYSTAT_WAREHOUSE_DIR=str(work / "warehouse"),
               DAGSTER_HOME=str(work / "dagster_home"), CITYSTAT_AS_OF="2026-10-31")
    return env


def _timed(command: list[str], env: dict, cwd: Path = ROOT) -> float:
    started = time.perf_counter()
    result = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True)
    seconds = time.perf_counter() - started
    if result.returncode != 0:
        raise SystemExit(f"{' '.join(command[:4])}... exited {result.returncode}:\n{result.stderr[-2000:]}")
    return seconds


def start_ups(env: dict, repeat: int, work: Path) -> dict[str, float]:
    figures = {}
    for label, code in IMPORTS.items():
        figures[label] = statistics.median(_timed([PYTHON, "-c", code], env) for _ in range(repeat))
        print(f"  {label}: {figures[label]:.2f} s", flush=True)
    dbt = str(Path(PYTHON).with_name("dbt"))
    project = ROOT / "dbt_project"
    dbt_env = {**env, "CITYSTAT_WORK_DB": str(work / "parse.duckdb"), "CITYSTAT_LANDING_DIR": str(work / "landing")}
    target = work / "dbt_target"
    shutil.rmtree(target, ignore_errors=True)
    parse = [dbt, "parse", "--quiet", "--project-dir", str(project), "--profiles-dir", str(project), "--target-path", str(target)]
    figures["dbt parse, from scratch"] = statistics.median(
        _timed(parse + ["--no-partial-parse"], dbt_env, project) for _ in range(repeat))
    _timed(parse, dbt_env, project)  # warm the partial-parse cache
    figures["dbt parse, warm partial-parse cache (every dbt invocation pays this)"] = statistics.median(
        _timed(parse, dbt_env, project) for _ in range(repeat))
    for label in list(figures)[-2:]:
        print(f"  {label}: {figures[label]:.2f} s", flush=True)
    return figures


def _sqlite_sizes(home: Path, run_id: str) -> dict[str, int]:
    runs = home / "history" / "runs"
    return {"run event log (history/runs/<run>.db)": (runs / f"{run_id}.db").stat().st_size if (runs / f"{run_id}.db").exists() else 0,
            "event index (history/runs/index.db)": (runs / "index.db").stat().st_size if (runs / "index.db").exists() else 0,
            "all of DAGSTER_HOME": sum(p.stat().st_size for p in home.rglob("*") if p.is_file())}


def run_breakdown(env: dict, label: str, log: Path | None = None) -> dict:
    """One `citystat run --no-dashboards`, timed from outside and taken apart from the run's own records;
    its console output goes to `log` when given."""
    from dagster import DagsterEventType, DagsterInstance
    from dagster._core.instance.ref import InstanceRef

    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.time()
    result = subprocess.run([*CITYSTAT, "run", "--no-dashboards"], cwd=ROOT, env=env, capture_output=True, text=True)
    ended = time.time()
    after = resource.getrusage(resource.RUSAGE_CHILDREN)  # the CLI, its run worker and dbt, once reaped
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    if log is not None:
        log.write_text(result.stdout + result.stderr)
    with DagsterInstance.from_ref(InstanceRef.from_dir(env["DAGSTER_HOME"])) as instance:
        record = instance.get_run_records(limit=1)[0]
        run_id = record.dagster_run.run_id
        entries = [r.event_log_entry for r in instance.get_records_for_run(run_id, limit=1_000_000).records]
    at = {}  # first time of each run-level event
    steps: dict[str, list[float]] = {}
    kinds: dict[str, int] = {}
    for entry in entries:
        event = entry.dagster_event
        kind = event.event_type_value if event else "log message"
        kinds[kind] = kinds.get(kind, 0) + 1
        if event is None:
            continue
        at.setdefault(event.event_type, entry.timestamp)
        if event.event_type == DagsterEventType.STEP_START:
            steps[event.step_key] = [entry.timestamp, entry.timestamp]
        elif event.event_type in (DagsterEventType.STEP_SUCCESS, DagsterEventType.STEP_FAILURE) and event.step_key in steps:
            steps[event.step_key][1] = entry.timestamp
    run_start = at.get(DagsterEventType.RUN_START, record.start_time)
    run_end = record.end_time or ended
    in_steps = sum(end - start for start, end in steps.values())
    figures = {
        "label": label, "exit_code": result.returncode, "run_id": run_id, "wall_seconds": round(ended - started, 2),
        "cpu_seconds": round(cpu, 2),
        "command start -> run created (CLI, code location)": round(record.create_timestamp.timestamp() - started, 2),
        "run launched -> run worker started (worker process)":
            round(run_start - at.get(DagsterEventType.RUN_STARTING, record.create_timestamp.timestamp()), 2),
        "steps' own time": round(in_steps, 2),
        "between and around steps (executor, event writes)": round((run_end - run_start) - in_steps, 2),
        "run end -> command exit": round(ended - run_end, 2),
        "steps": len(steps), "events": len(entries),
        "top event kinds": dict(sorted(kinds.items(), key=lambda kv: -kv[1])[:6]),
        "sqlite bytes": _sqlite_sizes(Path(env["DAGSTER_HOME"]), run_id),
    }
    print(f"  {label}: {figures['wall_seconds']} s, exit {result.returncode}, {len(steps)} steps, {len(entries)} events", flush=True)
    return figures


def event_write_cost(work: Path, events: int) -> dict:
    """Seconds per event written by one process to a scratch instance with the same SQLite storage."""
    from dagster import DagsterInstance
    from dagster._core.instance.ref import InstanceRef

    from orchestration.lib.instance import instance_config

    home = work / "event_bench_home"
    shutil.rmtree(home, ignore_errors=True)
    home.mkdir(parents=True)
    (home / "dagster.yaml").write_text(instance_config(home))
    with DagsterInstance.from_ref(InstanceRef.from_dir(str(home))) as instance:
        from dagster._core.storage.dagster_run import DagsterRun

        run = instance.add_run(DagsterRun(job_name="event_write_benchmark", run_id="0" * 8 + "-0000-0000-0000-000000000000"))
        started = time.perf_counter()
        for n in range(events):
            instance.report_engine_event(f"benchmark event {n}", run)
        seconds = time.perf_counter() - started
        size = (home / "history" / "runs" / f"{run.run_id}.db").stat().st_size
    return {"events": events, "seconds": round(seconds, 3), "ms_per_event": round(1000 * seconds / events, 3),
            "bytes_per_event": round(size / events)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scale", default="0.05")
    parser.add_argument("--work", type=Path, default=Path("/tmp/citystat-fixed-costs"))
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--events", type=int, default=2000)
    args = parser.parse_args()
    work = args.work.resolve()
    for scratch in ("warehouse", "dagster_home"):
        shutil.rmtree(work / scratch, ignore_errors=True)
    work.mkdir(parents=True, exist_ok=True)
    env = _env(work)
    load_before = os.getloadavg()
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True).stdout.strip()
    print(f"commit {commit}, load average {load_before[0]:.1f}, work {work}", flush=True)

    print("start-ups (fresh interpreters):", flush=True)
    startup = start_ups(env, args.repeat, work)
    print("event-log writes:", flush=True)
    writes = event_write_cost(work, args.events)
    print(f"  {writes['ms_per_event']} ms and {writes['bytes_per_event']} bytes per event", flush=True)
    if not (work / "city" / "generation.json").exists():
        print(f"generating a scale-{args.scale} city (not measured)...", flush=True)
        subprocess.run([*CITYSTAT, "demo-city", "generate", "--out", str(work / "city"), "--scale", args.scale, "--clean"],
                       cwd=ROOT, env=env, check=True, capture_output=True)
    print("runs:", flush=True)
    runs = [run_breakdown(env, "full build"), run_breakdown(env, "no new data")]
    load_after = os.getloadavg()

    results = {"commit": commit, "measured_at": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
               "scale": args.scale, "cpus": os.cpu_count(), "load_average_before": load_before,
               "load_average_after": load_after, "start_ups_seconds": startup, "event_writes": writes, "runs": runs}
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(results, indent=1) + "\n")

    print(f"\n| what | seconds |\n|---|---|")
    for label, seconds in startup.items():
        print(f"| {label} | {seconds:.2f} |")
    print(f"| one event-log write (SQLite, {writes['bytes_per_event']} bytes) | {writes['ms_per_event'] / 1000:.4f} |")
    keys = [k for k in runs[0] if k.endswith(")") or k in ("steps' own time", "run end -> command exit")]
    print(f"\n| scale {args.scale} `citystat run --no-dashboards` | " + " | ".join(r["label"] for r in runs) + " |")
    print("|---|" + "---|" * len(runs))
    print("| wall | " + " | ".join(f"{r['wall_seconds']} s" for r in runs) + " |")
    for key in keys:
        print(f"| {key} | " + " | ".join(f"{r[key]} s" for r in runs) + " |")
    print("| steps / events | " + " | ".join(f"{r['steps']} / {r['events']}" for r in runs) + " |")
    print("| est. time writing its events | " + " | ".join(
        f"{r['events'] * writes['ms_per_event'] / 1000:.1f} s" for r in runs) + " |")
    print("| run's event log / index / DAGSTER_HOME | " + " | ".join(
        " / ".join(f"{b / 1e6:.1f} MB" for b in r["sqlite bytes"].values()) for r in runs) + " |")
    print(f"\nload average {load_before[0]:.1f} before, {load_after[0]:.1f} after ({os.cpu_count()} CPUs); {RESULTS}")


if __name__ == "__main__":
    main()
