"""Landing time of every raw source of a demo city: one source after another, sources on threads inside the
run's process, and steps side by side in processes.

    python benchmarks/parallel_landing.py --city <generated demo city> [--threads 1 4] [--steps 2] [--out benchmarks/out]

For each setting ($CITYSTAT_LANDING_THREADS=T with one step at a time, then $CITYSTAT_PARALLEL_STEPS=S with one
thread): a fresh warehouse and Dagster instance, then `citystat run --select 'key:raw/*' --no-dashboards` (the
same run the CLI and UI launch). Prints the run's wall time, the landing span (first raw landing step's start to
the last one's end), the sum of the steps' own durations and the longest step, read from the run's Dagster event
log, and the rows landed (the ledger), so the settings are seen to land the same; writes
<out>/parallel_landing.json.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def measure(city: Path, steps: int, threads: int, work: Path) -> dict:
    from dagster import DagsterEventType, DagsterInstance, EventRecordsFilter
    from dagster._core.instance.ref import InstanceRef

    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CITYSTAT_", "DAGSTER_"))}
    env.update(CITYSTAT_DATA_DIR=str(city), CITYSTAT_WAREHOUSE_DIR=str(work / "warehouse"),
               DAGSTER_HOME=str(work / "dagster_home"), CITYSTAT_AS_OF="2026-10-31", CITYSTAT_PARALLEL_STEPS=str(steps),
               CITYSTAT_LANDING_THREADS=str(threads))
    started = time.monotonic()
    run = subprocess.run([sys.executable, "-m", "citystat.cli", "run", "--select", "key:raw/*", "--no-dashboards"],
                         cwd=ROOT, env=env, capture_output=True, text=True, timeout=3600)
    wall = time.monotonic() - started
    instance = DagsterInstance.from_ref(InstanceRef.from_dir(env["DAGSTER_HOME"]))
    try:
        durations = {}
        for kind in (DagsterEventType.STEP_START, DagsterEventType.STEP_SUCCESS, DagsterEventType.STEP_FAILURE):
            for record in instance.get_event_records(EventRecordsFilter(event_type=kind), limit=1000):  # noqa: deprecated in 2.0
                entry = record.event_log_entry
                durations.setdefault(entry.step_key, {})[kind.value] = entry.timestamp
    finally:
        instance.dispose()
    spans = {key: (d["STEP_START"], d.get("STEP_SUCCESS", d.get("STEP_FAILURE"))) for key, d in durations.items()
             if "STEP_START" in d and ("STEP_SUCCESS" in d or "STEP_FAILURE" in d)}
    step_seconds = [end - start for start, end in spans.values()]
    landings = [spans[key] for key in landing_step_keys() if key in spans]
    ledger = Path(env["CITYSTAT_WAREHOUSE_DIR"]) / "landing" / "_loads.jsonl"
    entries = [json.loads(line) for line in ledger.read_text().splitlines() if line.strip()] if ledger.exists() else []
    return {"parallel_steps": steps, "landing_threads": threads, "exit_code": run.returncode,
            "wall_seconds": round(wall, 1),
            "landing_span_seconds": round(max(e for _, e in landings) - min(s for s, _ in landings), 1) if landings else None,
            "landing_steps": len(landings), "steps": len(step_seconds), "sum_of_step_seconds": round(sum(step_seconds), 1),
            "longest_step_seconds": round(max(step_seconds, default=0), 1),
            "batches": len(entries), "rows_landed": sum(e["rows"] for e in entries),
            "output_tail": (run.stdout + run.stderr)[-1500:]}


def landing_step_keys() -> list[str]:
    """The raw landing steps (one per automated dataset), not the checks on them."""
    from orchestration.defs.ingestion.assets import build_ingestion

    return [asset.op.name for asset in build_ingestion().raw_assets]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--city", type=Path, required=True)
    parser.add_argument("--threads", type=int, nargs="*", default=[1, 4], help="$CITYSTAT_LANDING_THREADS settings")
    parser.add_argument("--steps", type=int, nargs="*", default=[], help="$CITYSTAT_PARALLEL_STEPS settings (> 1)")
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "out")
    args = parser.parse_args()
    results = []
    with tempfile.TemporaryDirectory(prefix="parallel-landing-", ignore_cleanup_errors=True) as tmp:
        settings = [(1, threads) for threads in args.threads] + [(steps, 1) for steps in args.steps]
        for steps, threads in settings:
            result = measure(args.city.resolve(), steps, threads, Path(tmp) / f"steps-{steps}-threads-{threads}")
            results.append(result)
            if not result["landing_steps"]:
                sys.exit(f"no landing step ran ({args.city}); the run said:\n{result['output_tail']}")
            print(f"CITYSTAT_PARALLEL_STEPS={steps} CITYSTAT_LANDING_THREADS={threads}: exit {result['exit_code']}, "
                  f"wall {result['wall_seconds']} s, landing span {result['landing_span_seconds']} s over "
                  f"{result['landing_steps']} landing steps; {result['steps']} steps summing "
                  f"{result['sum_of_step_seconds']} s (longest {result['longest_step_seconds']} s); "
                  f"{result['batches']} batches, {result['rows_landed']} rows landed", flush=True)
    for result in results:
        result.pop("output_tail")
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "parallel_landing.json").write_text(json.dumps({"city": str(args.city), "results": results}, indent=1))


if __name__ == "__main__":
    main()
