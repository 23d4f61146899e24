"""An incremental daily run leaves exactly the tables a full refresh of the same landed data builds.

Copy A of the shared scale-0.1 pipeline (tests/conftest.py) gets a day of new activity
(`demo-city advance --days 1`) and the daily `citystat run`. Copy B is A after that run, so both hold
the very same landed batches; B then rebuilds everything with `citystat run --full-refresh`. Every
table in the incremental staging layer, the marts and the metrics must match row for row (as
multisets: order is not part of a table's meaning).
"""
import shutil

import duckdb
import pytest

from citystat.warehouse import quote_identifier, quote_literal
from pipeline_helpers import citystat, pipeline_env

COMPARED_SCHEMAS = ("staging", "marts", "metrics")
# Columns stamped with the wall-clock time of the run that wrote the row, not derived from data.
RUN_TIME_COLUMNS: dict[tuple[str, str], set[str]] = {}


def _tables(con, catalog: str) -> dict[tuple[str, str], list[str]]:
    rows = con.execute(
        "select c.table_schema, c.table_name, c.column_name from information_schema.columns c "
        "join information_schema.tables t using (table_catalog, table_schema, table_name) "
        "where c.table_catalog = ? and t.table_type = 'BASE TABLE' and c.table_schema in (select unnest(?)) "
        "order by c.table_schema, c.table_name, c.ordinal_position",
        [catalog, list(COMPARED_SCHEMAS)],
    ).fetchall()
    tables: dict[tuple[str, str], list[str]] = {}
    for schema, table, column in rows:
        tables.setdefault((schema, table), []).append(column)
    return tables


def _differences(incremental, full_refresh) -> dict[str, str]:
    """'schema.table' -> how it differs, for every compared table that is not equal as a multiset of rows."""
    con = duckdb.connect()
    con.execute(f"attach {quote_literal(str(incremental))} as inc (read_only)")
    con.execute(f"attach {quote_literal(str(full_refresh))} as full (read_only)")
    inc_tables, full_tables = _tables(con, "inc"), _tables(con, "full")
    problems = {}
    for key in sorted(set(inc_tables) | set(full_tables)):
        name = ".".join(key)
        if key not in inc_tables or key not in full_tables:
            problems[name] = "only in the " + ("incremental" if key in inc_tables else "full-refresh") + " build"
            continue
        if inc_tables[key] != full_tables[key]:
            problems[name] = f"columns differ: {inc_tables[key]} vs {full_tables[key]}"
            continue
        columns = ", ".join(quote_identifier(c) for c in inc_tables[key] if c not in RUN_TIME_COLUMNS.get(key, set()))
        schema, table = (quote_identifier(part) for part in key)
        only_inc = con.execute(
            f'select count(*) from (select {columns} from inc.{schema}.{table} '
            f'except all select {columns} from full.{schema}.{table})'
        ).fetchone()[0]
        only_full = con.execute(
            f'select count(*) from (select {columns} from full.{schema}.{table} '
            f'except all select {columns} from inc.{schema}.{table})'
        ).fetchone()[0]
        if only_inc or only_full:
            problems[name] = f"{only_inc} rows only in the incremental build, {only_full} only in the full refresh"
    con.close()
    return problems


@pytest.mark.timeout(1200)
def test_a_daily_run_after_advance_equals_a_full_refresh(pipeline, tmp_path):
    daily, rebuilt = tmp_path / "daily", tmp_path / "rebuilt"
    shutil.copytree(pipeline.tmp, daily, ignore=shutil.ignore_patterns("*.lock"))
    env = pipeline_env(daily)
    ledger = daily / "warehouse" / "landing" / "_loads.jsonl"
    batches_before = len(ledger.read_text(encoding="utf-8").splitlines())
    citystat(env, "demo-city", "advance", "--data", str(daily / "city"), "--days", "1")
    result = citystat(env, "run", "--no-dashboards", check=False)
    assert result.returncode in (0, 1), result.stdout[-3000:]  # 1: the demo city's planted raw defects still fail
    # The day landed new batches, so the daily run had new rows to merge (else the comparison proves nothing).
    assert len(ledger.read_text(encoding="utf-8").splitlines()) > batches_before

    shutil.copytree(daily, rebuilt, ignore=shutil.ignore_patterns("*.lock"))
    result = citystat(pipeline_env(rebuilt), "run", "--full-refresh", "--no-dashboards", check=False)
    assert result.returncode in (0, 1), result.stdout[-3000:]

    incremental, full_refresh = daily / "warehouse" / "work.duckdb", rebuilt / "warehouse" / "work.duckdb"
    with duckdb.connect(str(incremental), read_only=True) as con:
        compared = con.execute(
            "select table_schema, count(*) from information_schema.tables where table_type = 'BASE TABLE' "
            "and table_schema in ('staging', 'marts', 'metrics') group by all"
        ).fetchall()
    assert {schema for schema, count in compared if count} == set(COMPARED_SCHEMAS), compared
    assert _differences(incremental, full_refresh) == {}
