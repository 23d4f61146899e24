"""Which rows of a mart its GX suite must check on a daily run: the rows that changed since they last passed.

A mart suite's query (expectations/suites/marts.<model>.json) joins the mart to what its rules need (a
dimension, the KPI registry). Each row of that query gets a hash of every column it shows plus the suite file's
digest, so a row is "unchanged" only when neither the row, nor what it was joined to, nor the suite changed.
Rows that passed every expectation of the suite are remembered (`STATE_TABLE`, in the work database, never
published); the next check validates only the rows that are new or different, plus what a change can invalidate:

* row-local rules (`ROW_LOCAL`: value between, in a set, not null, a > b) hold or fail row by row, so the
  unchanged rows keep their result;
* uniqueness (`UNIQUE_COLUMNS`) is the one rule across rows: the rows sharing a key value with a changed row are
  checked with it, which is exactly where a new duplicate can be;
* `now` moves forward between checks, and mart suites use it only as an upper bound ("not in the future"), so a
  row that passed stays passed;
* anything else (another expectation type, a `mostly` threshold, `now` used otherwise): the whole table.

Fail closed: rows are remembered only after a check where every expectation passed; any failure forgets the
model, so the next check is of the whole table again. A missing or damaged state table means a whole check.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass

import duckdb

from citystat.quality.gx_runner import RECORD_ID
from citystat.quality.suites import Suite
from citystat.warehouse import quote_identifier, quote_literal

STATE_SCHEMA = "quality_state"
STATE_TABLE = f"{STATE_SCHEMA}.mart_suite_rows"
ROWS = "_suite_rows"  # temporary: this check's rows with their hashes
HASH = "_row_hash"
ROW_LOCAL = frozenset({
    "expect_column_values_to_be_between", "expect_column_values_to_be_in_set", "expect_column_values_to_not_be_null",
    "expect_column_values_to_be_null", "expect_column_values_to_not_be_in_set", "expect_column_values_to_match_regex",
    "expect_column_values_to_not_match_regex", "expect_column_pair_values_a_to_be_greater_than_b",
    "expect_column_pair_values_to_be_equal",
})
UNIQUE_COLUMNS = {"expect_column_values_to_be_unique": lambda kwargs: [kwargs["column"]],
                  "expect_compound_columns_to_be_unique": lambda kwargs: list(kwargs["column_list"])}


@dataclass(frozen=True)
class RowsToCheck:
    query: str            # the SELECT whose rows GX validates
    total: int            # rows of the suite's query
    changed: int | None   # rows new or different since they last passed (None: the whole table is checked)
    why_whole: str = ""


def whole_table_reason(suite: Suite) -> str:
    """Why this suite cannot be checked on the changed rows alone ('' when it can)."""
    for expectation in suite.expectations:
        kind, kwargs = expectation["type"], expectation.get("kwargs", {})
        if kind not in ROW_LOCAL and kind not in UNIQUE_COLUMNS:
            return f"{kind} reads the whole table"
        if "mostly" in kwargs:
            return f"{kind} has a 'mostly' threshold over the whole table"
        for name, value in kwargs.items():
            if isinstance(value, dict) and "$PARAMETER" in value and not (value["$PARAMETER"] == "now" and name == "max_value"):
                return f"{kind} uses the parameter {value['$PARAMETER']!r} as {name}, which can change between checks"
    return ""


def suite_digest(suite: Suite) -> str:
    return hashlib.sha256(suite.path.read_bytes()).hexdigest()


def _state_exists(con: duckdb.DuckDBPyConnection) -> bool:
    return bool(con.execute("select count(*) from duckdb_tables() where schema_name = ? and table_name = ?",
                            [STATE_SCHEMA, STATE_TABLE.split(".")[1]]).fetchall()[0][0])


def rows_to_check(con: duckdb.DuckDBPyConnection, model: str, suite: Suite, *, whole: bool = False) -> RowsToCheck:
    """Hash the suite's rows (a temporary table for `remember_passed`) and return the query of those to validate."""
    digest = quote_literal(suite_digest(suite))
    con.execute(f"create or replace temp table {ROWS} as "
                f"select checked.*, hash(checked, {digest}) as {HASH} from ({suite.query}) as checked")
    total = con.execute(f"select count(*) from {ROWS}").fetchall()[0][0]
    whole_query = f"select * exclude ({HASH}) from {ROWS}"
    why = "asked for the whole table" if whole else whole_table_reason(suite)
    if not why and not _state_exists(con):
        why = "no rows remembered from an earlier check"
    if why:
        return RowsToCheck(whole_query, total, None, why)
    record_id = quote_identifier(RECORD_ID)
    changed_sql = (f"select r.* from {ROWS} as r anti join {STATE_TABLE} as s "
                   f"on s.model = {quote_literal(model)} and s.record_id = cast(r.{record_id} as varchar) and s.row_hash = r.{HASH}")
    con.execute(f"create or replace temp table _suite_changed as {changed_sql}")
    changed = con.execute("select count(*) from _suite_changed").fetchall()[0][0]
    # A new duplicate of a key can only be among the rows that share that key with a changed row.
    sharing = [f"r.{record_id} in (select {record_id} from _suite_changed)"]
    for expectation in suite.expectations:
        if expectation["type"] in UNIQUE_COLUMNS:
            columns = [quote_identifier(c) for c in UNIQUE_COLUMNS[expectation["type"]](expectation["kwargs"])]
            tuple_of = lambda alias: "(" + ", ".join(f"{alias}.{c}" for c in columns) + ")"  # noqa: E731
            sharing.append(f"exists (select 1 from _suite_changed as c where {tuple_of('c')} = {tuple_of('r')})")
    query = f"select r.* exclude ({HASH}) from {ROWS} as r where " + " or ".join(sharing)
    return RowsToCheck(query, total, changed)


def remember_passed(con: duckdb.DuckDBPyConnection, model: str, all_passed: bool) -> None:
    """After a check: remember every row when all expectations passed, else forget the model (next: whole table)."""
    con.execute(f"create schema if not exists {STATE_SCHEMA}")
    con.execute(f"create table if not exists {STATE_TABLE} (model varchar, record_id varchar, row_hash ubigint)")
    con.execute(f"delete from {STATE_TABLE} where model = ?", [model])
    if all_passed:
        con.execute(f"insert into {STATE_TABLE} select ?, cast({quote_identifier(RECORD_ID)} as varchar), {HASH} from {ROWS}",
                    [model])
    con.execute(f"drop table if exists {ROWS}")
    con.execute("drop table if exists _suite_changed")
