"""Landing time of every raw source of a demo city, one step at a time against steps side by side.

    python benchmarks/parallel_landing.py --city <generated demo city> [--steps 1 2] [--out benchmarks/out]

For each setting of $CITYSTAT_PARALLEL_STEPS: a fresh warehouse and Dagster instance, then
`citystat run --select 'key:raw/*' --no-dashboards` (the same run the CLI and UI launch). Prints the run's wall
time, the sum of the landing steps' own durations (what one-at-a-time would cost at least), and the longest
step, read from the run's Dagster event log; writes them to <out>/parallel_landing.json.
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


def measure(city: Path, steps: int, work: Path) -> dict:
    from dagster import DagsterEventType, DagsterInstance, EventRecordsFilter
    from dagster._core.instance.ref import InstanceRef

    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CITYSTAT_", "DAGSTER_"))}
    env.update(CITYSTAT_DATA_DIR=str(city), CITYSTAT_WAREHOUSE_DIR=str(work / "warehouse"),
               DAGSTER_HOME=str(work / "dagster_home"), CITYSTAT_AS_OF="2026-10-31", CITYSTAT_PARALLEL_STEPS=str(steps))
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
    step_seconds = [d[end] - d["STEP_START"] for d in durations.values() if "STEP_START" in d
                    for end in ("STEP_SUCCESS", "STEP_FAILURE") if end in d]
    return {"parallel_steps": steps, "exit_code": run.returncode, "wall_seconds": round(wall, 1),
            "steps": len(step_seconds), "sum_of_step_seconds": round(sum(step_seconds), 1),
            "longest_step_seconds": round(max(step_seconds, default=0), 1)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--city", type=Path, required=True)
    parser.add_argument("--steps", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "out")
    args = parser.parse_args()
    results = []
    with tempfile.TemporaryDirectory(prefix="parallel-landing-", ignore_cleanup_errors=True) as tmp:
        for steps in args.steps:
            result = measure(args.city.resolve(), steps, Path(tmp) / f"steps-{steps}")
            results.append(result)
            print(f"CITYSTAT_PARALLEL_STEPS={steps}: exit {result['exit_code']}, wall {result['wall_seconds']} s, "
                  f"{result['steps']} landing steps summing {result['sum_of_step_seconds']} s "
                  f"(longest {result['longest_step_seconds']} s)", flush=True)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "parallel_landing.json").write_text(json.dumps({"city": str(args.city), "results": results}, indent=1))


if __name__ == "__main__":
    main()
