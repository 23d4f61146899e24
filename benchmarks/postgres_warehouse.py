"""The same warehouse on DuckDB and on PostgreSQL: one demo city's full dbt build and one day's increment on each
engine, in one run.

    .venv/bin/pip install -e ".[bench]"                        # psutil
    bash scripts/start_postgres.sh                             # the PostgreSQL server (127.0.0.1:5432)
    .venv/bin/python benchmarks/postgres_warehouse.py          # scale 1
    .venv/bin/python benchmarks/postgres_warehouse.py --scale 10 --work /tmp/pg-bench --database citystat_bench

Prepared first, not measured (--work/scale-<S>/): the city generated, its sources landed (`citystat run
--no-dashboards --select 'key:raw/*'`), then a copy advanced one day (`demo-city advance --days 1`) and landed on
the same landing; the day's new batches are set aside until the increment (--reuse-landing reuses all of it).
Measured, on that landing and in one run:
  1. DuckDB full: `dbt build` of the whole project into a fresh DuckDB file (unit tests left out, as on PostgreSQL);
  2. PostgreSQL full: `citystat postgres build` into a fresh database (--database, created and dropped here through
     the server URL of CITYSTAT_BENCH_POSTGRES_URL, else the test server's URL file): the landing copied in (COPY),
     the same `dbt build`, the published schemas swapped in;
  then the day's batches put back in the landing, and
  3. DuckDB increment: `dbt build` again on the same DuckDB file, with the next day's as-of date;
  4. PostgreSQL increment: `citystat postgres build` again on the same database (only the new batches copied).
Both engines get the same dbt threads (CITYSTAT_DBT_THREADS, default 2). Wall time, CPU seconds and peak memory of
each command's process tree (for PostgreSQL: the client side only; the server's own CPU is not counted), dbt's own
elapsed time from run_results.json, the load average around each step, and the ratios PostgreSQL / DuckDB. Results:
a table on stdout and benchmarks/out/postgres_warehouse.json. Figures are reported, never asserted.
"""
from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from warehouse_build import (CITYSTAT, ROOT, city_as_of, code_version, generate_city, measure,  # noqa: E402
                             pipeline_env, ratio, run_dbt_only)

RESULTS = ROOT / "benchmarks" / "out" / "postgres_warehouse.json"
URL_FILE = Path.home() / ".config" / "citystat" / "test-postgres-url"
LANDED = re.compile(r"^landed \S+ in PostgreSQL: ([\d,]+) rows", re.M)
LEDGER = "_loads.jsonl"
DAY0_LEDGER = "_loads.before-the-day.jsonl"  # kept beside the day's batches set aside


def server_url() -> str:
    url = os.environ.get("CITYSTAT_BENCH_POSTGRES_URL", "").strip() or (URL_FILE.read_text().strip() if URL_FILE.is_file() else "")
    if not url:
        raise SystemExit(f"no PostgreSQL: set CITYSTAT_BENCH_POSTGRES_URL or run scripts/start_postgres.sh ({URL_FILE})")
    return url


def fresh_database(url: str, name: str) -> str:
    """Drop and create database `name` on the server of `url`; its URL."""
    import psycopg
    from sqlalchemy.engine import make_url

    from citystat.warehouse import quote_identifier

    with psycopg.connect(url, autocommit=True) as con:
        con.execute(f"drop database if exists {quote_identifier(name)} with (force)")
        con.execute(f"create database {quote_identifier(name)}")
    return make_url(url).set(database=name).render_as_string(hide_password=False)


def dbt_seconds(target: Path) -> float | None:
    results = target / "run_results.json"
    return round(json.loads(results.read_text())["elapsed_time"], 2) if results.exists() else None


def duckdb_build(base: Path, as_of: str, label: str, database: Path | None = None) -> dict:
    result = run_dbt_only(base, as_of, label=label, extra=("--exclude", "resource_type:unit_test"), database=database)
    result["dbt_seconds"] = result.get("dbt_elapsed_seconds")
    return result


def postgres_build(city: Path, base: Path, as_of: str, url: str, label: str) -> dict:
    env = {**pipeline_env(city, base, as_of), "CITYSTAT_WAREHOUSE_POSTGRES_URL": url}
    target = base / "warehouse" / "dbt_postgres_target"
    shutil.rmtree(target, ignore_errors=True)
    result = measure([*CITYSTAT, "postgres", "build"], env, base / f"{label}.log")
    result["dbt_seconds"] = dbt_seconds(target)
    result["rows_landed"] = sum(int(n.replace(",", "")) for n in LANDED.findall(Path(result["log"]).read_text()))
    return result


def landing_files(landing: Path) -> set[str]:
    return {str(f.relative_to(landing)) for f in landing.glob("*/*/*.parquet")}


def land(city: Path, base: Path, label: str) -> None:
    """The city's sources into the landing (not measured): the raw assets only, no dbt."""
    result = measure([*CITYSTAT, "run", "--no-dashboards", "--select", "key:raw/*"],
                     pipeline_env(city, base, city_as_of(city)), base / f"{label}.log")
    if not any((base / "warehouse" / "landing").glob("*/*/*.parquet")):
        raise SystemExit(f"nothing landed (exit {result['returncode']}): see {result['log']}")


def prepare(scale: float, base: Path, reuse: bool) -> dict:
    """The city, its landing and the next day's batches set aside (base/increment); what the measured part needs."""
    city, landing, aside = base / "city", base / "warehouse" / "landing", base / "increment"
    prepared = base / "prepared.json"
    if reuse and prepared.exists():
        return json.loads(prepared.read_text())
    if not (city / "generation.json").exists():
        print(f"scale {scale:g}: generating the demo city (not measured) ...", flush=True)
        generate_city(scale, city, base / "generate.log")
    for leftover in ("warehouse", "dagster_home", "city-advanced", "increment"):
        shutil.rmtree(base / leftover, ignore_errors=True)
    print(f"scale {scale:g}: landing its sources (not measured) ...", flush=True)
    land(city, base, "land_full")
    before, ledger = landing_files(landing), (landing / LEDGER).read_bytes()
    advanced = base / "city-advanced"
    shutil.copytree(city, advanced)
    subprocess.run([*CITYSTAT, "demo-city", "advance", "--data", str(advanced), "--days", "1"],
                   cwd=ROOT, check=True, capture_output=True)
    print(f"scale {scale:g}: landing the next day (not measured) ...", flush=True)
    land(advanced, base, "land_increment")
    new = sorted(landing_files(landing) - before)
    for name in new:  # set aside until the increment; the ledger as it was before the day
        (aside / name).parent.mkdir(parents=True, exist_ok=True)
        (landing / name).rename(aside / name)
    shutil.copyfile(landing / LEDGER, aside / LEDGER)
    (aside / DAY0_LEDGER).write_bytes(ledger)
    (landing / LEDGER).write_bytes(ledger)
    state = {"as_of": city_as_of(city), "next_as_of": city_as_of(advanced), "increment_files": new}
    prepared.write_text(json.dumps(state, indent=2))
    return state


def put_back_increment(base: Path, state: dict) -> None:
    landing, aside = base / "warehouse" / "landing", base / "increment"
    for name in state["increment_files"]:
        (landing / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(aside / name, landing / name)
    shutil.copyfile(aside / LEDGER, landing / LEDGER)


def take_out_increment(base: Path, state: dict, ledger: bytes) -> None:
    """Back to the day-0 landing (a rerun with --reuse-landing starts from it again)."""
    landing = base / "warehouse" / "landing"
    for name in state["increment_files"]:
        (landing / name).unlink(missing_ok=True)
    (landing / LEDGER).write_bytes(ledger)


def loaded(step) -> dict:
    """The step's figures and the 1-minute load average just before and just after it (the machine is shared)."""
    before = os.getloadavg()[0]
    result = step()
    result["load_average_before_after"] = [round(before, 2), round(os.getloadavg()[0], 2)]
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--work", type=Path, default=ROOT / "benchmarks" / "out" / "postgres-work")
    parser.add_argument("--database", default="citystat_bench", help="scratch database (dropped and created)")
    parser.add_argument("--keep", action="store_true", help="keep the scratch database afterwards")
    parser.add_argument("--reuse-landing", action="store_true",
                        help="skip the generation and landing when a prepared landing is already there")
    args = parser.parse_args()

    base = (args.work / f"scale-{args.scale:g}").resolve()
    city = base / "city"
    base.mkdir(parents=True, exist_ok=True)
    state = prepare(args.scale, base, args.reuse_landing)
    as_of, next_as_of = state["as_of"], state["next_as_of"]
    ledger = (base / "increment" / DAY0_LEDGER).read_bytes()
    take_out_increment(base, state, ledger)  # a rerun after a stopped one

    url = fresh_database(server_url(), args.database)
    started = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    steps = {}
    try:
        print("DuckDB: full dbt build ...", flush=True)
        steps["duckdb_full"] = loaded(lambda: duckdb_build(base, as_of, "duckdb_full"))
        print("PostgreSQL: full citystat postgres build ...", flush=True)
        steps["postgres_full"] = loaded(lambda: postgres_build(city, base, as_of, url, "postgres_full"))
        put_back_increment(base, state)
        print(f"one day's increment ({len(state['increment_files'])} new landing files, as of {next_as_of}) ...", flush=True)
        print("DuckDB: dbt build on the same file ...", flush=True)
        steps["duckdb_increment"] = loaded(lambda: duckdb_build(base, next_as_of, "duckdb_increment",
                                                                database=base / "duckdb_full.duckdb"))
        print("PostgreSQL: citystat postgres build on the same database ...", flush=True)
        steps["postgres_increment"] = loaded(lambda: postgres_build(base / "city-advanced", base, next_as_of, url,
                                                                    "postgres_increment"))
    finally:
        take_out_increment(base, state, ledger)
        if not args.keep:
            fresh_database(server_url(), args.database)  # leave it empty rather than holding a city's copy

    result = {
        "scale": args.scale, "as_of": as_of, "next_as_of": next_as_of, "started": started,
        "measured_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "code": code_version(), "dbt_threads": os.environ.get("CITYSTAT_DBT_THREADS", "2"),
        "cpus": os.cpu_count(), "increment_files": len(state["increment_files"]), **steps,
        "ratio_full": ratio(steps["postgres_full"]["seconds"], steps["duckdb_full"]["seconds"]),
        "ratio_full_dbt": ratio(steps["postgres_full"]["dbt_seconds"], steps["duckdb_full"]["dbt_seconds"]),
        "ratio_increment": ratio(steps["postgres_increment"]["seconds"], steps["duckdb_increment"]["seconds"]),
        "ratio_increment_dbt": ratio(steps["postgres_increment"]["dbt_seconds"], steps["duckdb_increment"]["dbt_seconds"]),
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2))
    print(f"\nscale {args.scale:g} (as of {as_of}, then {next_as_of}), dbt threads {result['dbt_threads']}")
    print(f"{'step':<20} {'exit':>4} {'wall s':>8} {'dbt s':>8} {'CPU s':>8} {'peak MB':>8} {'rows copied':>12} {'load':>11}")
    for name, r in steps.items():
        print(f"{name:<20} {r['returncode']:>4} {r['seconds']:>8.1f} {r['dbt_seconds'] or float('nan'):>8.1f} "
              f"{r['cpu_seconds']:>8.1f} {r['peak_tree_rss_mb']:>8} {r.get('rows_landed', ''):>12} "
              f"{'-'.join(str(x) for x in r['load_average_before_after']):>11}")
    print(f"PostgreSQL / DuckDB, full: {result['ratio_full']}x wall (PostgreSQL's includes the landing COPY and the "
          f"publish), {result['ratio_full_dbt']}x dbt alone")
    print(f"PostgreSQL / DuckDB, one day's increment: {result['ratio_increment']}x wall, "
          f"{result['ratio_increment_dbt']}x dbt alone")
    print(f"figures: {RESULTS}")


if __name__ == "__main__":
    main()
