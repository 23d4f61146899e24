"""Soak: a city that runs every day. N times `demo-city advance --days 1` then `citystat run --no-dashboards`.

    nice -n 10 .venv/bin/python benchmarks/soak.py --scale 0.1 --days 10 --work /tmp/citystat-soak

A fresh city and warehouse under --work (the city generated and built first; the build is reported as day 0),
then one line per day: wall and CPU time, the run's fixed and step time, its event count, the size of its SQLite event
log and of the whole DAGSTER_HOME, the landing ledger's batches. Each run's as-of date is the city's own after
its advance (generation.json), as on a real day; each run's console output is kept under --work/logs. At the end
a copy of the warehouse is rebuilt with `citystat run --full-refresh` and every staging, mart and metrics table
compared row for row with the daily-built one, and the daily runs' times of the first and the last third of the
days are set side by side (the time per day must not grow with the days). Figures go to
benchmarks/out/soak.json after every day, so a soak that is stopped still leaves what it measured. Not a test:
figures are reported, never asserted.
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import shutil
import statistics
import subprocess
from pathlib import Path

from fixed_costs import CITYSTAT, ROOT, _env, run_breakdown
from warehouse_build import city_as_of

from citystat.warehouse_compare import not_from_data, table_differences

RESULTS = ROOT / "benchmarks" / "out" / "soak.json"
COMPARED_SCHEMAS = ("staging", "marts", "metrics")


def _city_env(work: Path) -> dict:
    """The run's environment with the city's own as-of date (fixed_costs pins one date; a soak moves a day a time)."""
    return _env(work) | {"CITYSTAT_AS_OF": city_as_of(work / "city")}


def _day_line(day: int, run: dict, ledger: Path, as_of: str) -> dict:
    sizes = run["sqlite bytes"]
    line = {"day": day, "as_of": as_of, "wall_seconds": run["wall_seconds"], "cpu_seconds": run["cpu_seconds"],
            "exit_code": run["exit_code"],
            "steps_seconds": run["steps' own time"],
            "fixed_seconds": round(run["wall_seconds"] - run["steps' own time"], 2),
            "events": run["events"], "run_event_log_mb": round(sizes["run event log (history/runs/<run>.db)"] / 1e6, 2),
            "dagster_home_mb": round(sizes["all of DAGSTER_HOME"] / 1e6, 2),
            "landed_batches": len(ledger.read_text(encoding="utf-8").splitlines()),
            "load_average": round(os.getloadavg()[0], 1)}
    print(" | ".join(f"{k} {v}" for k, v in line.items()), flush=True)
    return line


def _growth(days: list[dict]) -> dict:
    """Median wall and CPU time of the first and the last third of the daily runs (day 0, the full build, left out).
    On a shared machine the wall time follows the load; the CPU seconds much less."""
    third = max(1, len(days) // 3)
    figures: dict = {"days_per_third": third}
    for measure in ("wall_seconds", "cpu_seconds"):
        first, last = (statistics.median(d[measure] for d in part) for part in (days[:third], days[-third:]))
        figures[measure] = {"first_third_median": round(first, 1), "last_third_median": round(last, 1),
                            "last_over_first": round(last / first, 2) if first else None}
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scale", default="0.1")
    parser.add_argument("--days", type=int, default=10)
    parser.add_argument("--work", type=Path, default=Path("/tmp/citystat-soak"))
    args = parser.parse_args()
    work = args.work.resolve()
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True).stdout.strip()
    results = {"commit": commit, "scale": args.scale, "started_at": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
               "cpus": os.cpu_count(), "days": []}

    def save() -> None:
        RESULTS.parent.mkdir(parents=True, exist_ok=True)
        RESULTS.write_text(json.dumps(results, indent=1) + "\n")

    print(f"commit {commit}: generating a scale-{args.scale} city under {work} (not measured)", flush=True)
    subprocess.run([*CITYSTAT, "demo-city", "generate", "--out", str(work / "city"), "--scale", args.scale],
                   cwd=ROOT, env=_env(work), check=True, capture_output=True)
    ledger = work / "warehouse" / "landing" / "_loads.jsonl"
    logs = work / "logs"
    logs.mkdir()

    def day_run(day: int) -> None:
        env = _city_env(work)
        run = run_breakdown(env, "full build" if day == 0 else f"day {day}", log=logs / f"day-{day:02d}.log")
        results["days"].append(_day_line(day, run, ledger, env["CITYSTAT_AS_OF"]))
        save()

    day_run(0)
    for day in range(1, args.days + 1):
        subprocess.run([*CITYSTAT, "demo-city", "advance", "--data", str(work / "city"), "--days", "1"],
                       cwd=ROOT, env=_env(work), check=True, capture_output=True)
        day_run(day)
    results["growth"] = _growth(results["days"][1:])
    print(f"daily runs' median wall time: {results['growth']}", flush=True)

    rebuilt = work / "full-refresh"
    rebuilt.mkdir()
    for part in ("city", "warehouse", "dagster_home"):
        shutil.copytree(work / part, rebuilt / part, ignore=shutil.ignore_patterns("*.lock"))
    with (logs / "full-refresh.log").open("w") as log:
        result = subprocess.run([*CITYSTAT, "run", "--full-refresh", "--no-dashboards"], cwd=ROOT,
                                env=_city_env(rebuilt), stdout=log, stderr=subprocess.STDOUT)
    daily_db = work / "warehouse" / "work.duckdb"
    differences = table_differences(daily_db, rebuilt / "warehouse" / "work.duckdb", COMPARED_SCHEMAS,
                                    not_from_data(daily_db))  # run-time stamps and landing paths left out
    results["full_refresh"] = {"exit_code": result.returncode, "tables_differing": differences}
    results["ended_at"] = dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")
    save()
    print(f"full refresh of a copy: exit {result.returncode}; "
          + ("every staging, mart and metrics table equal" if not differences else f"DIFFERENT: {differences}"))
    print(f"figures: {RESULTS}")


if __name__ == "__main__":
    main()
