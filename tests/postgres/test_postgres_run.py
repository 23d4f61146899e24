"""`citystat run` with the warehouse and Dagster's instance on PostgreSQL (two settings, no code change): the session
pipeline's scale-0.1 demo city, landed again, loaded by COPY, built by dbt-postgres, KPI metrics written through the
portable layer, mart GX suites read from PostgreSQL, published_* schemas swapped in. What it publishes equals the
DuckDB run's snapshot (the `pipeline` fixture) row for row; the memo and the briefings it writes equal DuckDB's files
(the briefings' department names aside: `_file_differences`).

Tolerance: numbers are compared rounded to 6 decimal places (PostgreSQL computes some averages in numeric, DuckDB
in double); the columns naming the landing run (load id, extraction time, landing file) are left out, since this run
lands the city again, and so are the times of quality.dataset_scores. Tables the PostgreSQL run does not build yet (docs/postgres_warehouse.md) are listed in NOT_ON_POSTGRES;
any other table of the DuckDB snapshot missing on PostgreSQL fails the test.
"""
import datetime as dt
import decimal
import html
import math
import re

import pyarrow.parquet as pq
import pytest

from own_postgres import drop_database
from pipeline_helpers import citystat

DECIMALS = 6
# DuckDB snapshot tables the PostgreSQL graph leaves out, and why (docs/postgres_warehouse.md).
NOT_ON_POSTGRES: dict[str, set[str]] = {}
# Which landing run a row came from: differ by construction, since the PostgreSQL run lands the city again.
LANDING_RUN_COLUMNS = {"_load_id", "_extracted_at", "_landing_file"}
PORTED_METRICS = {"kpi_registry", "kpi_series", "kpi_submission_problems", "kpi_status", "flags", "flag_actions",
                  "goal_progress", "cityscore", "kpi_commentary",
                  # contracts, budget (citystat/contracts, citystat/budget)
                  "contract_performance", "contract_payments", "contract_grades", "contract_allocations",
                  "vendor_scorecards", "programme_cost_effectiveness", "peer_benchmarks", "failing_programmes",
                  "repurposing_candidates", "budget_scenario", "vacant_positions",
                  # evaluations and the self-assessment (citystat/evaluations; it reads the inventory catalog)
                  "evaluation_results", "evaluation_balance", "evaluation_assignments", "wwc_self_assessment"}
# quality.dataset_scores' times (when the run landed, checked and computed) are the run's clock through and through:
# left out; its other columns are compared.
RUN_TIME_COLUMNS = {"dataset_scores": {"last_checked_at", "last_landed_at", "age_hours", "computed_at"}}
# The flag log is stamped with the clock of the run that wrote it (citystat.kpi.flags: `now` of the sync), and the two
# runs ran at different times. Only values that came from that clock are replaced by a marker: a timestamp equal to
# one of the run's engine action times or evaluation times (raised_at, updated_at, last_evaluated_at, acted_at), the
# id of an engine action (a hash of its acted_at), and recorded_at (the wall clock at each insert). Everything else,
# the workbench's actions with their own times and ids and the sequence order included, must be equal.
RUN_CLOCK = "<the run's clock>"


FLAG_LOG = ("flags", "flag_actions")


def _run_clock(con, schema: str) -> set:
    return {r[0] for r in con.execute(
        f'select acted_at from "{schema}".flag_actions where source = \'engine\' '
        f'union select last_evaluated_at from "{schema}".flags').fetchall()}


def _without_run_clock(name: str, columns: list[str], rows: list[tuple], clock: set) -> list[tuple]:
    if name not in FLAG_LOG:
        return rows
    engine = [row[columns.index("source")] == "engine" if name == "flag_actions" else False for row in rows]
    return [tuple(RUN_CLOCK if (c == "recorded_at" and v is not None) or (c == "action_id" and by_engine)
                  or (isinstance(v, dt.datetime) and v in clock) else v for c, v in zip(columns, row))
            for row, by_engine in zip(rows, engine)]


def _value(v):
    if isinstance(v, decimal.Decimal):
        v = float(v)
    if isinstance(v, float):
        return "NaN" if math.isnan(v) else round(v, DECIMALS) + 0.0  # + 0.0: -0.0 == 0.0 sorts alike
    if isinstance(v, dt.datetime) and v.tzinfo is not None:
        raise AssertionError(f"time zone-aware value {v!r}: the warehouse keeps naive city time")
    return v


def _sorted_rows(rows) -> list[tuple]:
    normal = [tuple(_value(v) for v in row) for row in rows]
    return sorted(normal, key=lambda row: tuple((v is None, type(v).__name__, str(v)) for v in row))


def _tables(con, schema: str, placeholder: str) -> set[str]:
    return {r[0] for r in con.execute(
        f"select table_name from information_schema.tables where table_schema = {placeholder}", [schema]).fetchall()}


def _columns(con, schema: str, name: str, placeholder: str) -> list[str]:
    return [r[0] for r in con.execute(
        "select column_name from information_schema.columns where table_schema = {0} and table_name = {0} "
        "order by ordinal_position".format(placeholder), [schema, name]).fetchall()]


def _difference(duck, duck_schema: str, pg, pg_schema: str, name: str) -> str | None:
    columns = _columns(duck, duck_schema, name, "?")
    pg_columns = _columns(pg, pg_schema, name, "%s")
    if pg_columns != columns:
        return f"columns differ: DuckDB {columns}, PostgreSQL {pg_columns}"
    kept = [c for c in columns if c not in LANDING_RUN_COLUMNS | RUN_TIME_COLUMNS.get(name, set())]
    select = ", ".join(f'"{c}"' for c in kept)
    duck_rows, pg_rows = (
        _sorted_rows(_without_run_clock(name, kept, con.execute(f'select {select} from "{schema}"."{name}"').fetchall(),
                                        _run_clock(con, schema) if name in FLAG_LOG else set()))
        for con, schema in ((duck, duck_schema), (pg, pg_schema)))
    if duck_rows == pg_rows:
        return None
    first = next((d, p) for d, p in zip(duck_rows, pg_rows) if d != p) if len(duck_rows) == len(pg_rows) else None
    return f"{len(duck_rows)} rows in DuckDB, {len(pg_rows)} in PostgreSQL; first differing pair {first}"


def _file_differences(duck_dir, pg_dir, departments: dict) -> dict:
    """The memo and the briefings the PostgreSQL run wrote, against the DuckDB run's: equal (a briefing may name its
    department by code where the run had no inventory catalog on PostgreSQL: DuckDB's takes the catalog's name)."""
    differences = {}
    duck_memos, pg_memos = (sorted(p.name for p in (d / "memos").glob("memo_*.md")) for d in (duck_dir, pg_dir))
    if not pg_memos or pg_memos != duck_memos:
        differences["memos"] = f"DuckDB wrote {duck_memos}, PostgreSQL {pg_memos}"
    for name in pg_memos if pg_memos == duck_memos else []:
        pg_text, duck_text = ((d / "memos" / name).read_text() for d in (pg_dir, duck_dir))
        if pg_text != duck_text or "## New flags this month" not in pg_text:
            first = next((f"DuckDB {d!r}, PostgreSQL {p!r}" for d, p in zip(duck_text.splitlines(), pg_text.splitlines())
                          if d != p), f"{len(duck_text)} characters in DuckDB's, {len(pg_text)} in PostgreSQL's")
            differences[f"memos/{name}"] = f"first differing line: {first}"
    duck_pages, pg_pages = (sorted(p.relative_to(d / "briefings").as_posix() for p in (d / "briefings").glob("*/*.html"))
                            for d in (duck_dir, pg_dir))
    if not pg_pages or pg_pages != duck_pages:
        differences["briefings"] = f"DuckDB wrote {duck_pages}, PostgreSQL {pg_pages}"
    for page in pg_pages if pg_pages == duck_pages else []:
        code = page.rsplit("_", 1)[1].removesuffix(".html")
        name = html.escape(departments.get(code, code))
        duck_html = (duck_dir / "briefings" / page).read_text()
        by_code = duck_html.replace(f"{name} · stat meeting", f"{code} · stat meeting").replace(f"<h1>{name}</h1>", f"<h1>{code}</h1>")
        if (pg_dir / "briefings" / page).read_text() not in (duck_html, by_code):
            differences[f"briefings/{page}"] = "the page differs from DuckDB's (department name aside)"
    return differences


def _failed_error_checks(stdout: str) -> set[str]:
    return set(re.findall(r"^failed check \(ERROR\) (\S+?):", stdout, re.M))


@pytest.mark.timeout(1500)
def test_citystat_run_on_postgres_publishes_what_duckdb_publishes(pipeline, postgres_url, postgres_server_url):
    import duckdb
    import psycopg
    from sqlalchemy.engine import make_url

    dagster_db = make_url(postgres_url).database + "_dagster"
    with psycopg.connect(postgres_server_url, autocommit=True) as admin:
        admin.execute(f'create database "{dagster_db}"')
    try:
        env = {**pipeline.env, "CITYSTAT_WAREHOUSE_DIR": str(pipeline.tmp / "pg_warehouse"),
               "DAGSTER_HOME": str(pipeline.tmp / "pg_dagster_home"),
               "CITYSTAT_WAREHOUSE_POSTGRES_URL": postgres_url,
               "CITYSTAT_DAGSTER_POSTGRES_URL": make_url(postgres_url).set(database=dagster_db).render_as_string(hide_password=False)}
        run = citystat(env, "run", "--no-dashboards", check=False)
        output = run.stdout + run.stderr
        # The same outcome as the DuckDB run of the same city: every step ran, the same planted ERROR checks failed.
        assert run.returncode == pipeline.first_run.returncode, output[-4000:]
        assert re.search(r"ended SUCCESS; (\d+)/\1 assets materialized, 0 failed steps", " ".join(output.split())), output[-4000:]
        assert _failed_error_checks(run.stdout) == _failed_error_checks(pipeline.first_run.stdout), output[-4000:]
        assert not (pipeline.tmp / "pg_warehouse" / "work.duckdb").exists(), "the PostgreSQL run wrote a DuckDB warehouse"

        with psycopg.connect(make_url(postgres_url).set(database=dagster_db).render_as_string(hide_password=False)) as runs:
            assert [r[0] for r in runs.execute("select status from runs").fetchall()] == ["SUCCESS"]
            # the staging reconciliation ran on PostgreSQL and held (a failure would also be a failed ERROR check)
            statuses = [r[0] for r in runs.execute(
                "select execution_status from asset_check_executions where check_name = 'reconciliation'").fetchall()]
            assert len(statuses) >= 15 and set(statuses) == {"SUCCEEDED"}, statuses

        duck = duckdb.connect(str(pipeline.snapshot), read_only=True)
        work = duckdb.connect(str(pipeline.tmp / "warehouse" / "work.duckdb"), read_only=True)
        with psycopg.connect(postgres_url) as pg:
            landing = pipeline.tmp / "pg_warehouse" / "landing"  # every landed Parquet row reached PostgreSQL (pyarrow's count)
            for dataset in sorted(p for p in landing.glob("*/*") if p.is_dir() and any(p.glob("*.parquet"))):
                expected = sum(pq.ParquetFile(f).metadata.num_rows for f in dataset.glob("*.parquet"))
                landed = pg.execute(f'select count(*) from "{dataset.parent.name}"."{dataset.name}"').fetchone()[0]
                assert landed == expected, f"{dataset.parent.name}.{dataset.name}: {landed} rows in PostgreSQL, {expected} in Parquet"

            differences, compared = {}, []
            for schema in ("marts", "quality", "metrics"):
                published = _tables(pg, f"published_{schema}", "%s")
                expected = _tables(duck, schema, "?") - NOT_ON_POSTGRES.get(schema, set())
                if schema == "metrics":
                    expected &= PORTED_METRICS
                    assert expected == PORTED_METRICS, f"the DuckDB snapshot lacks metrics tables: {PORTED_METRICS - expected}"
                assert expected <= published, f"not published on PostgreSQL: {schema}.{sorted(expected - published)}"
                for name in sorted(expected):
                    compared.append(f"{schema}.{name}")
                    if problem := _difference(duck, schema, pg, f"published_{schema}", name):
                        differences[f"{schema}.{name}"] = problem
            for schema in ("staging", "intermediate"):  # not published, but what the marts are built from
                for name in sorted(_tables(pg, schema, "%s") - {n for n in _tables(pg, schema, "%s") if n.startswith("base_")}):
                    compared.append(f"{schema}.{name}")
                    if problem := _difference(work, schema, pg, schema, name):
                        differences[f"{schema}.{name}"] = problem
            departments = dict(duck.execute("select department_code, department_name from inventory.departments").fetchall())
        duck.close()
        work.close()
        differences |= _file_differences(pipeline.tmp / "warehouse", pipeline.tmp / "pg_warehouse", departments)
    finally:
        drop_database(postgres_server_url, dagster_db)

    assert sum(1 for c in compared if c.startswith("marts.")) >= 20, compared
    assert sum(1 for c in compared if c.startswith("staging.")) >= 15, compared
    assert not differences, "\n".join(f"{k}: {v[:600]}" for k, v in differences.items())
