"""Demo-city generation benchmark: rows per second and peak memory by scale.

    .venv/bin/python benchmarks/demo_city_generation.py            # scales 1 10 100
    .venv/bin/python benchmarks/demo_city_generation.py 1 10 --out var/bench

Each scale runs in a fresh child process (so peak memory is that generation's own ru_maxrss), writes
the city under --out/scale-<S>, and the results go to a table and to benchmarks/out/generation.json.
Rows are what generation.json counts (every dataset of every system) plus the 311 status history;
rows/s is over wall time (CPU seconds are reported too, since a shared machine stretches wall time).
"""
from __future__ import annotations

import argparse
import json
import platform
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "out" / "generation.json"

CHILD = """
import datetime as dt, json, resource, sys, time
from demo_city.generator import generate, SYSTEMS
out, scale, seed = sys.argv[1], float(sys.argv[2]), int(sys.argv[3])
timings, state = {}, {"name": None, "t": time.perf_counter()}
def on_system(name):
    now = time.perf_counter()
    if state["name"]:
        timings[state["name"]] = now - state["t"]
    state.update(name=name, t=now)
t0 = time.perf_counter()
ctx = generate(out, seed=seed, scale=scale, as_of=dt.date(2026, 10, 31), clean=False, on_system=on_system)
timings[state["name"]] = time.perf_counter() - state["t"]
usage = resource.getrusage(resource.RUSAGE_SELF)
print(json.dumps({"seconds": time.perf_counter() - t0, "cpu_seconds": usage.ru_utime + usage.ru_stime, "row_counts": ctx.row_counts,
                  "system_seconds": timings, "peak_rss_mb": usage.ru_maxrss / 1024}))
"""


def _status_history_rows(out: Path) -> int:
    with sqlite3.connect(out / "crm311" / "crm.sqlite") as conn:
        return conn.execute("SELECT count(*) FROM request_updates").fetchone()[0]


def _disk_mb(out: Path) -> float:
    return sum(p.stat().st_size for p in out.rglob("*") if p.is_file()) / 1e6


def run(scale: float, out: Path, seed: int, keep: bool) -> dict:
    target = out / f"scale-{scale:g}"
    child = subprocess.run([sys.executable, "-c", CHILD, str(target), str(scale), str(seed)], cwd=ROOT, capture_output=True, text=True)
    if child.returncode != 0:
        raise SystemExit(f"scale {scale:g} failed:\n{child.stderr[-4000:]}")
    result = json.loads(child.stdout.strip().splitlines()[-1])
    counts = result["row_counts"]
    rows = sum(counts.values()) + _status_history_rows(target)
    summary = {
        "scale": scale,
        "seconds": round(result["seconds"], 2),
        "cpu_seconds": round(result["cpu_seconds"], 2),  # wall time on a shared machine varies; CPU time less so
        "rows": rows,
        "rows_per_second": round(rows / result["seconds"]),
        "peak_rss_mb": round(result["peak_rss_mb"], 1),
        "disk_mb": round(_disk_mb(target), 1),
        "service_requests_plus_work_orders": counts.get("crm311.service_requests", 0) + counts.get("pw_mms.work_orders", 0),
        "ledger_lines": counts.get("fin_erp.expenditures", 0),
        "system_seconds": {k: round(v, 2) for k, v in result["system_seconds"].items()},
        "row_counts": counts,
    }
    if not keep:
        shutil.rmtree(target)
    return summary


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("scales", nargs="*", type=float, default=[1, 10, 100])
    parser.add_argument("--out", type=Path, default=ROOT / "var" / "bench", help="where the generated cities go")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--keep", action="store_true", help="keep the generated cities")
    args = parser.parse_args()

    results = []
    print(f"{'scale':>6} {'seconds':>9} {'cpu s':>8} {'rows':>12} {'rows/s':>9} {'peak MB':>8} {'disk MB':>8} {'SR+WO':>11} {'ledger':>10}")
    for scale in args.scales:
        r = run(scale, args.out, args.seed, args.keep)
        results.append(r)
        print(f"{r['scale']:>6g} {r['seconds']:>9.1f} {r['cpu_seconds']:>8.1f} {r['rows']:>12,} {r['rows_per_second']:>9,} {r['peak_rss_mb']:>8.0f} "
              f"{r['disk_mb']:>8.0f} {r['service_requests_plus_work_orders']:>11,} {r['ledger_lines']:>10,}", flush=True)  # fmt: skip
    previous = json.loads(RESULTS.read_text())["runs"] if RESULTS.exists() else {}
    previous.update({f"{r['scale']:g}": r for r in results})  # keep other scales' latest figures
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    machine = {"python": platform.python_version(), "machine": platform.machine(), "cpus": __import__("os").cpu_count()}
    RESULTS.write_text(json.dumps({"machine": machine, "runs": dict(sorted(previous.items(), key=lambda kv: float(kv[0])))}, indent=1))
    print(f"wrote {RESULTS.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
