"""Are two warehouses' tables equal row for row? (an incremental build against a full refresh of the same data)

Tables are compared as multisets of rows (order is not part of a table's meaning; duplicates count), with
DuckDB's EXCEPT ALL both ways; only base tables of the named schemas, views being queries over them.
Floating-point columns are compared to 9 decimal places: a sum over the same rows in another order (DuckDB
aggregates in parallel) differs in the last bits, which is not a different result.
"""
from __future__ import annotations

from pathlib import Path

import duckdb

from citystat.warehouse import quote_identifier, quote_literal

FLOAT_DECIMALS = 9
# Not derived from the data: `last_evaluated_at` is the wall-clock time of the run that evaluated a flag, and
# `_landing_file` is the landing file's absolute path (a copy of a warehouse lives in another folder).
RUN_TIME_COLUMNS: dict[str, set[str]] = {"metrics.flags": {"last_evaluated_at"}}
LOCATION_COLUMN = "_landing_file"


def _tables(con, catalog: str, schemas: tuple[str, ...]) -> dict[tuple[str, str], list[str]]:
    rows = con.execute(
        "select c.table_schema, c.table_name, c.column_name, c.data_type from information_schema.columns c "
        "join information_schema.tables t using (table_catalog, table_schema, table_name) "
        "where c.table_catalog = ? and t.table_type = 'BASE TABLE' and list_contains(?, c.table_schema) "
        "order by c.table_schema, c.table_name, c.ordinal_position",
        [catalog, list(schemas)],
    ).fetchall()
    tables: dict[tuple[str, str], list[tuple[str, str]]] = {}
    for schema, table, column, data_type in rows:
        tables.setdefault((schema, table), []).append((column, data_type))
    return tables


def table_differences(left: Path, right: Path, schemas: tuple[str, ...],
                      ignore_columns: dict[str, set[str]] | None = None) -> dict[str, str]:
    """'schema.table' -> how it differs between the two DuckDB files; {} when every table is equal.

    ``ignore_columns`` ('schema.table' -> columns) leaves out columns stamped with the time of the run itself."""
    ignore_columns = ignore_columns or {}
    problems = {}
    with duckdb.connect() as con:
        con.execute(f"attach {quote_literal(str(left))} as left_db (read_only)")
        con.execute(f"attach {quote_literal(str(right))} as right_db (read_only)")
        left_tables, right_tables = _tables(con, "left_db", schemas), _tables(con, "right_db", schemas)
        for key in sorted(set(left_tables) | set(right_tables)):
            name = ".".join(key)
            if key not in left_tables or key not in right_tables:
                problems[name] = f"only in {left if key in left_tables else right}"
                continue
            if left_tables[key] != right_tables[key]:
                problems[name] = f"columns differ: {left_tables[key]} against {right_tables[key]}"
                continue
            columns = ", ".join(
                f"round({quote_identifier(c)}, {FLOAT_DECIMALS})" if t in ("DOUBLE", "FLOAT") else quote_identifier(c)
                for c, t in left_tables[key] if c not in ignore_columns.get(name, set()))
            qualified = ".".join(quote_identifier(part) for part in key)
            only = [con.execute(f"select count(*) from (select {columns} from {a}.{qualified} "
                                f"except all select {columns} from {b}.{qualified})").fetchone()[0]
                    for a, b in (("left_db", "right_db"), ("right_db", "left_db"))]
            if any(only):
                problems[name] = f"{only[0]} rows only in {left}, {only[1]} only in {right}"
    return problems


def not_from_data(db: Path) -> dict[str, set[str]]:
    """The ``ignore_columns`` for comparing ``db`` with a rebuilt copy elsewhere: run-time stamps and landing paths."""
    with duckdb.connect(str(db), read_only=True) as con:
        located = [f"{s}.{t}" for s, t in con.execute(
            "select table_schema, table_name from information_schema.columns where column_name = ?",
            [LOCATION_COLUMN]).fetchall()]
    return {name: set(columns) for name, columns in RUN_TIME_COLUMNS.items()} | {
        name: RUN_TIME_COLUMNS.get(name, set()) | {LOCATION_COLUMN} for name in located}
