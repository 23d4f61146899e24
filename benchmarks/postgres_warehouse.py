"""The same warehouse on DuckDB and on PostgreSQL: one demo city's full dbt build on each engine, in one run.

    .venv/bin/pip install -e ".[bench]"                        # psutil
    bash scripts/start_postgres.sh                             # the PostgreSQL server (127.0.0.1:5432)
    .venv/bin/python benchmarks/postgres_warehouse.py          # scale 1
    .venv/bin/python benchmarks/postgres_warehouse.py --scale 10 --work /tmp/pg-bench --database citystat_bench

Steps, on the city's landing (--work/scale-<S>/; the city is generated and ingested there first by `citystat run
--no-dashboards`, which is not measured):
  1. DuckDB: `dbt build` of the whole project into a fresh DuckDB file (unit tests left out, as on PostgreSQL);
  2. PostgreSQL: `citystat postgres build` into a fresh database (--database, created and dropped here through the
     server URL of CITYSTAT_BENCH_POSTGRES_URL, else the test server's URL file): the landing copied in (COPY), the
     same `dbt build`, the published schemas swapped in.
Both engines get the same dbt threads (CITYSTAT_DBT_THREADS, default 2). Wall time, CPU seconds and peak memory of
each command's process tree (for PostgreSQL: the client side only; the server's own CPU is not counted), dbt's own
elapsed time from run_results.json, and the ratio PostgreSQL / DuckDB. Results: a table on stdout and
benchmarks/out/postgres_warehouse.json. Figures are reported, never asserted.
"""
from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from warehouse_build import (CITYSTAT, ROOT, city_as_of, code_version, generate_city, measure,  # noqa: E402
                             pipeline_env, ratio, run_dbt_only)

RESULTS = ROOT / "benchmarks" / "out" / "postgres_warehouse.json"
URL_FILE = Path.home() / ".config" / "citystat" / "test-postgres-url"
LANDED = re.compile(r"^landed \S+ in PostgreSQL: ([\d,]+) rows$", re.M)


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


def duckdb_build(base: Path, as_of: str) -> dict:
    result = run_dbt_only(base, as_of, label="duckdb_build", extra=("--exclude", "resource_type:unit_test"))
    result["dbt_seconds"] = result.get("dbt_elapsed_seconds")
    return result


def postgres_build(city: Path, base: Path, as_of: str, url: str) -> dict:
    env = {**pipeline_env(city, base, as_of), "CITYSTAT_WAREHOUSE_POSTGRES_URL": url}
    target = base / "warehouse" / "dbt_postgres_target"
    shutil.rmtree(target, ignore_errors=True)
    result = measure([*CITYSTAT, "postgres", "build"], env, base / "postgres_build.log")
    result["dbt_seconds"] = dbt_seconds(target)
    result["rows_landed"] = sum(int(n.replace(",", "")) for n in LANDED.findall(Path(result["log"]).read_text()))
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--work", type=Path, default=ROOT / "benchmarks" / "out" / "postgres-work")
    parser.add_argument("--database", default="citystat_bench", help="scratch database (dropped and created)")
    parser.add_argument("--keep", action="store_true", help="keep the scratch database afterwards")
    parser.add_argument("--reuse-landing", action="store_true", help="skip the ingestion when a landing is already there")
    args = parser.parse_args()

    base = (args.work / f"scale-{args.scale:g}").resolve()
    city = base / "city"
    base.mkdir(parents=True, exist_ok=True)
    if not (city / "generation.json").exists():
        print(f"scale {args.scale:g}: generating the demo city (not measured) ...", flush=True)
        generate_city(args.scale, city, base / "generate.log")
    as_of = city_as_of(city)
    landed = any((base / "warehouse" / "landing").glob("*/*/*.parquet"))
    ingest = {"seconds": None}
    if not (args.reuse_landing and landed):
        shutil.rmtree(base / "warehouse", ignore_errors=True)
        shutil.rmtree(base / "dagster_home", ignore_errors=True)
        print(f"scale {args.scale:g}: ingesting it with `citystat run --no-dashboards` (not measured) ...", flush=True)
        ingest = measure([*CITYSTAT, "run", "--no-dashboards"], pipeline_env(city, base, as_of), base / "ingest.log")
        if not any((base / "warehouse" / "landing").glob("*/*/*.parquet")):
            raise SystemExit(f"no landing after `citystat run` (exit {ingest['returncode']}): see {ingest['log']}")

    url = fresh_database(server_url(), args.database)
    print("DuckDB: dbt build ...", flush=True)
    duck = duckdb_build(base, as_of)
    print("PostgreSQL: citystat postgres build ...", flush=True)
    pg = postgres_build(city, base, as_of, url)
    if not args.keep:
        fresh_database(server_url(), args.database)  # leave it empty rather than holding a city's copy

    result = {
        "scale": args.scale, "as_of": as_of, "measured_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "code": code_version(), "dbt_threads": os.environ.get("CITYSTAT_DBT_THREADS", "2"),
        "ingest_seconds_not_compared": ingest["seconds"], "duckdb": duck, "postgres": pg,
        "ratio_total": ratio(pg["seconds"], duck["seconds"]),
        "ratio_dbt": ratio(pg["dbt_seconds"], duck["dbt_seconds"]),
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2))
    print(f"\nscale {args.scale:g} (as of {as_of}), {pg['rows_landed']:,} landing rows, dbt threads {result['dbt_threads']}")
    print(f"{'engine':<12} {'exit':>4} {'wall s':>8} {'dbt s':>8} {'CPU s':>8} {'peak MB':>8}")
    for name, r in (("DuckDB", duck), ("PostgreSQL", pg)):
        print(f"{name:<12} {r['returncode']:>4} {r['seconds']:>8.1f} {r['dbt_seconds'] or float('nan'):>8.1f} "
              f"{r['cpu_seconds']:>8.1f} {r['peak_tree_rss_mb']:>8}")
    print(f"PostgreSQL / DuckDB: {result['ratio_total']}x wall (PostgreSQL's includes the landing COPY and the "
          f"publish), {result['ratio_dbt']}x dbt alone")
    print(f"figures: {RESULTS}")


if __name__ == "__main__":
    main()
