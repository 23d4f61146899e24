"""Quality gates against the demo city's ground truth, and what they cost next to the build.

    .venv/bin/python benchmarks/quality_detection.py                 # scale 1
    .venv/bin/python benchmarks/quality_detection.py --scale 0.1 --scale 1

For each scale: generate the default (defective) city and a --clean one, build each (land every source
with the real connectors, dbt build into a private warehouse), then run every gate over everything landed
(GX suites on every batch, quarantine, drift, missing exports) plus reconciliation and the mart suites.
Reports per defect class: records injected, caught, recall; false alarms on the clean city; the checks'
wall/CPU time and peak memory against the build's. Build and checks run in separate child processes, so
each peak is its own ru_maxrss (the build's includes dbt's). Results: a Markdown report on stdout and
benchmarks/out/quality_detection.json.
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "out" / "quality_detection.json"

GENERATE = """
import datetime as dt, sys
from demo_city.generator import generate
generate(sys.argv[1], seed=42, scale=float(sys.argv[2]), as_of=dt.date(2026, 10, 31), clean=sys.argv[3] == "clean")
"""

BUILD = """
import json, resource, sys, time
from pathlib import Path
from demo_city.measure import build_warehouse
t = time.perf_counter()
built = build_warehouse(Path(sys.argv[1]), Path(sys.argv[2]))
me, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
print(json.dumps({"seconds": time.perf_counter() - t, "steps": built.seconds,
                  "cpu_seconds": me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime,
                  "peak_rss_mb": max(me.ru_maxrss, kids.ru_maxrss) / 1024,
                  "rows_landed": sum(r.rows for r in built.loads.values())}))
"""

CHECKS = """
import json, resource, sys, time
from pathlib import Path
import duckdb
from data_inventory import load_inventory
from citystat.ingestion import is_automated
from citystat.landing import Landing
from citystat.quality import detection
from orchestration.defs.quality.checks import mart_models
from citystat.quality.reconciliation import reconcile
from citystat.quality.validation import validate_mart
city, warehouse = Path(sys.argv[1]), Path(sys.argv[2])
inventory, landing = load_inventory(), Landing(warehouse / "landing")
t = time.perf_counter()
with duckdb.connect(str(warehouse / "work.duckdb"), read_only=True) as con:
    flags = detection.collect_flags(inventory, landing, city, con, docs_dir=warehouse / "quality" / "data_docs")
    seconds = dict(flags.seconds)
    started = time.perf_counter()
    holds = {ref.name: reconcile(ref, landing, con).holds for ref in inventory.datasets() if is_automated(ref)}
    seconds["reconciliation"] = time.perf_counter() - started
    started = time.perf_counter()
    marts = {m: validate_mart(m, con) for m in mart_models()}
    seconds["mart_suites"] = time.perf_counter() - started
usage = resource.getrusage(resource.RUSAGE_SELF)
rows = detection.detection_table(detection.load_manifest(city), flags) if (city / "defects.json").exists() else []
print(json.dumps({
    "seconds": time.perf_counter() - t, "steps": seconds, "cpu_seconds": usage.ru_utime + usage.ru_stime,
    "peak_rss_mb": usage.ru_maxrss / 1024,
    "table": [{"defect_class": r.defect_class, "dataset": r.dataset, "injected": r.injected, "caught": r.caught,
               "by": r.by, "missed": r.missed} for r in rows],
    "markdown": detection.format_table(rows), "row_level_recall": detection.row_level_recall(rows),
    "flags": flags.total(), "false_alarm_detail": detection.false_alarms(flags),
    "reconciliation_holds": all(holds.values()), "reconciliation_failures": [k for k, v in holds.items() if not v],
    "mart_failures": {m: o.describe(m) for m, o in marts.items() if not o.success},
}, default=str))
"""


def child(code: str, *args: str) -> dict:
    done = subprocess.run([sys.executable, "-c", code, *args], cwd=ROOT, capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"child failed ({done.returncode}):\n{done.stderr[-4000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1]) if code is not GENERATE else {}


def run_scale(scale: float, work: Path) -> dict:
    result = {"scale": scale}
    for kind in ("defective", "clean"):
        city, warehouse = work / f"{kind}-{scale}" / "city", work / f"{kind}-{scale}" / "warehouse"
        child(GENERATE, str(city), str(scale), kind)
        build = child(BUILD, str(city), str(warehouse))
        checks = child(CHECKS, str(city), str(warehouse))
        result[kind] = {"build": build, "checks": checks}
        print(f"scale {scale} {kind}: build {build['seconds']:.1f} s, checks {checks['seconds']:.1f} s", file=sys.stderr)
    return result


def report(result: dict) -> str:
    d, c = result["defective"], result["clean"]
    build, checks = d["build"], d["checks"]
    lines = [
        f"## Scale {result['scale']}",
        "",
        f"Defective city: {build['rows_landed']:,} rows landed. Row-level recall **{checks['row_level_recall']:.2%}**; "
        f"reconciliation holds for every batch: {checks['reconciliation_holds']}; mart suites failing: {len(checks['mart_failures'])}.",
        f"Clean city: **{c['checks']['flags']} false alarm(s)**"
        + (f" ({json.dumps(c['checks']['false_alarm_detail'])})" if c["checks"]["flags"] else "")
        + f"; reconciliation holds: {c['checks']['reconciliation_holds']}; mart suites failing: {len(c['checks']['mart_failures'])}.",
        "",
        checks["markdown"],
        "",
        "| cost (defective city) | wall s | CPU s | peak RSS MB |",
        "|---|---:|---:|---:|",
        f"| build (land + dbt) | {build['seconds']:.1f} | {build['cpu_seconds']:.1f} | {build['peak_rss_mb']:.0f} |",
        f"| checks (all gates, every batch) | {checks['seconds']:.1f} | {checks['cpu_seconds']:.1f} | {checks['peak_rss_mb']:.0f} |",
        f"| checks / build | {checks['seconds'] / build['seconds']:.0%} | {checks['cpu_seconds'] / build['cpu_seconds']:.0%} | |",
        "",
        "Check steps (s): " + ", ".join(f"{k} {v:.1f}" for k, v in checks["steps"].items())
        + "; build steps (s): " + ", ".join(f"{k} {v:.1f}" for k, v in build["steps"].items()),
    ]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, action="append", help="demo city scale (repeatable; default 1)")
    parser.add_argument("--work", type=Path, help="where cities and warehouses go (default: a temporary folder)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="quality-bench-") as tmp:
        work = args.work or Path(tmp)
        results = [run_scale(scale, work) for scale in args.scale or [1.0]]
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(results, indent=1, default=str))
    print("\n\n".join(report(r) for r in results))


if __name__ == "__main__":
    main()
