"""Landed batches read back for validation: only the columns a suite needs, typed as the inventory says,
in bounded chunks.

File drops land every value as text and APIs land their own types (docs/contracts.md, "Landing"); a
suite sees each field typed the way dbt staging types it (trimmed text, '' as NULL, numbers without
thousands separators, ISO timestamps with an offset as naive city time) plus, for typed fields, the
text as landed (``<field>__landed``) so "does it parse" is a rule of its own. ``_record_id`` names the
row the way people (and the demo city's defect manifest) do: its primary key, id fields first.

A big batch is cut into chunks by a hash of (file, primary key), so every copy of a key lands in the
same chunk and the per-chunk uniqueness rule equals the batch-wide one; memory stays bounded by the
chunk size, whatever the batch size.
"""
from __future__ import annotations

import math
import re
from pathlib import Path
from typing import Iterator

import duckdb
import pandas as pd

from data_inventory import DatasetRef
from citystat.landing import Landing
from citystat.quality.suites import LANDED_SUFFIX, Suite
from citystat.warehouse import quote_identifier, quote_literal

CITY_TIMEZONE = "America/New_York"  # the dbt project's var city_timezone: warehouse times are naive city time
CHUNK_ROWS = 500_000
META_COLUMNS = ("_load_id", "_source_file", "_row_number", "_extracted_at")


def text_sql(column: str) -> str:
    return f"nullif(trim(cast({quote_identifier(column)} as varchar)), '')"


def typed_sql(column: str, type_: str, fmt: dict | None = None) -> str:
    """The DuckDB expression dbt staging uses for a field of this inventory type (try_cast: NULL if it does not parse),
    reading the value as the field's declared ``format`` says the source writes it (a value that does not match the
    format is NULL, so the suite's "must parse" checks fail on it). Format values reach SQL only as literals."""
    fmt = fmt or {}
    text = text_sql(column)
    if fmt.get("code_map"):  # source codes onto canonical values first (Boston's ONTIME -> true)
        cases = " ".join(f"when {quote_literal(str(k))} then {quote_literal(str(v).lower() if isinstance(v, bool) else str(v))}"
                         for k, v in fmt["code_map"].items())
        text = f"(case {text} {cases} else {text} end)"
    if type_ in ("number", "integer"):
        if fmt.get("negative_parentheses"):
            text = f"regexp_replace({text}, '^\\((.*)\\)$', '-\\1')"
        text = f"replace(replace({text}, {quote_literal(fmt.get('thousands_separator', ','))}, ''), '$', '')"
        if fmt.get("decimal_separator", ".") != ".":
            text = f"replace({text}, {quote_literal(fmt['decimal_separator'])}, '.')"
        number = f"try_cast({text} as double)"
        if type_ == "number":
            return number
        return f"(case when {number} = trunc({number}) then cast({number} as bigint) end)"
    if type_ == "date":
        if fmt.get("date"):
            return f"cast(try_strptime({text}, {quote_literal(fmt['date'])}) as date)"
        return f"coalesce(try_cast({text} as date), cast(try_cast({text} as timestamp) as date))"
    if type_ == "datetime":
        if fmt.get("datetime"):
            parsed = f"try_strptime({text}, {quote_literal(fmt['datetime'])})"
            if fmt.get("timezone") and fmt["timezone"] != CITY_TIMEZONE:  # naive time in another zone -> city time
                parsed = f"timezone({quote_literal(CITY_TIMEZONE)}, timezone({quote_literal(fmt['timezone'])}, {parsed}))"
            return parsed
        return (f"(case when regexp_matches({text}, '(Z|[+-]\\d{{2}}:?\\d{{2}})$') "
                f"then timezone('{CITY_TIMEZONE}', try_cast({text} as timestamptz)) else try_cast({text} as timestamp) end)")
    if type_ == "boolean":
        true = [v.upper() for v in fmt.get("true_values", ())] or ["Y", "YES", "TRUE", "T", "1", "1.0"]
        false = [v.upper() for v in fmt.get("false_values", ())] or ["N", "NO", "FALSE", "F", "0", "0.0"]
        if fmt.get("code_map"):  # mapped values arrive as 'true' / 'false'
            true, false = true + ["TRUE"], false + ["FALSE"]
        return (f"(case when upper({text}) in ({', '.join(map(quote_literal, true))}) then true "
                f"when upper({text}) in ({', '.join(map(quote_literal, false))}) then false end)")
    return text


def field_sql(field) -> str:
    """typed_sql for an inventory field, with its declared format."""
    return typed_sql(field.name, field.type, field.value_format())


def connect(memory_limit: str = "1GB") -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    con.execute(f"SET TimeZone = 'UTC'; SET memory_limit = '{memory_limit}'; SET threads = 2")
    return con


def batch_files(landing: Landing, system_id: str, dataset_id: str, load_ids=None) -> list[Path]:
    """The Parquet parts of the given batches (every committed batch when ``load_ids`` is None)."""
    directory = landing.dataset_dir(system_id, dataset_id)
    if load_ids is None:
        load_ids = [e["load_id"] for e in landing.entries(system_id, dataset_id)]
    files: list[Path] = []
    for load_id in load_ids:
        files += sorted(directory.glob(f"{load_id}.parquet")) + sorted(directory.glob(f"{load_id}.p*.parquet"))
    return files


def _source(files: list[Path]) -> str:
    return f"read_parquet([{', '.join(quote_literal(str(f)) for f in files)}], union_by_name = true)"


def present_columns(con: duckdb.DuckDBPyConnection, files: list[Path]) -> set[str]:
    return {row[0] for row in con.execute(f"DESCRIBE SELECT * FROM {_source(files)}").fetchall()}


LANDED_REFERENCE = re.compile(r"\{landed:([a-z0-9_]+)\.([a-z0-9_]+)\}")


def expand_landed_references(sql: str, landing: Landing | None) -> str:
    """``{landed:<system>.<dataset>}`` in a derived column's SQL: every landed batch of that dataset."""
    def table(match: re.Match) -> str:
        files = batch_files(landing, match.group(1), match.group(2)) if landing is not None else []
        if not files:  # nothing landed yet: an empty table with the dataset's declared columns
            from data_inventory import load_inventory

            names = ["_load_id", *(fld.name for fld in load_inventory().get(match.group(1), match.group(2)).dataset.fields)]
            return "(SELECT " + ", ".join(f"NULL AS {quote_identifier(n)}" for n in names) + " WHERE false)"
        return f"(SELECT * FROM {_source(files)})"
    return LANDED_REFERENCE.sub(table, sql)


def select_list(ref: DatasetRef, suite: Suite, present: set[str], landing: Landing | None = None) -> list[str]:
    """The SELECT expressions for the columns ``suite`` reads, typed; a field the batch lacks is NULL.
    The batch's rows are aliased ``batch`` for derived columns that look things up elsewhere."""
    fields = {f.name: f for f in ref.dataset.fields}
    wanted = suite.columns() | set(suite.record_id) | set(ref.dataset.primary_key)

    def column(name: str) -> str:
        return quote_identifier(name) if name in present else "NULL"

    exprs = []
    for name, f in fields.items():
        if name in wanted:
            exprs.append(f"{field_sql(f) if name in present else 'NULL'} as {quote_identifier(name)}")
        if name + LANDED_SUFFIX in wanted:
            exprs.append(f"{text_sql(name) if name in present else 'NULL'} as {quote_identifier(name + LANDED_SUFFIX)}")
    for name, sql in suite.derived_columns.items():
        exprs.append(f"({expand_landed_references(sql, landing)}) as {quote_identifier(name)}")
    id_parts = [f"coalesce(cast({field_sql(fields[n])} as varchar), {text_sql(n)}, '')" if n in present else "''"
                for n in suite.record_id]
    exprs.append(f"concat_ws('@', {', '.join(id_parts)}) as _record_id" if id_parts else "cast(_row_number as varchar) as _record_id")
    exprs += [
        f"coalesce({column('_source_file')}, '') as _source_file",
        f"{column('_load_id')} as _load_id",
        f"{column('_row_number')} as _row_number",
    ]
    return exprs


def count_rows(con: duckdb.DuckDBPyConnection, files: list[Path]) -> int:
    return con.execute(f"SELECT count(*) FROM {_source(files)}").fetchone()[0] if files else 0


def typed_frames(ref: DatasetRef, suite: Suite, files: list[Path], *, chunk_rows: int = CHUNK_ROWS,
                 con: duckdb.DuckDBPyConnection | None = None, landing: Landing | None = None) -> Iterator[pd.DataFrame]:
    """The batch as pandas frames of at most about ``chunk_rows`` rows, only the columns the suite reads."""
    if not files:
        return
    con = con or connect()
    present = present_columns(con, files)
    rows = count_rows(con, files)
    chunks = max(1, math.ceil(rows / chunk_rows))
    select = ",\n    ".join(select_list(ref, suite, present, landing))
    key = ", ".join([text_sql("_source_file") if "_source_file" in present else "''"]
                    + [text_sql(k) if k in present else "''" for k in ref.dataset.primary_key])
    for chunk in range(chunks):
        where = f"WHERE hash({key}) % {chunks} = {chunk}" if chunks > 1 else ""
        yield vectorizable(con.execute(f"SELECT\n    {select}\nFROM {_source(files)} AS batch\n{where}").df())


def vectorizable(frame: pd.DataFrame) -> pd.DataFrame:
    """Dtypes GX's pandas metrics compare vectorised: timestamps in ns (other units fall back to a Python loop
    per row), nullable integers as floats."""
    for name, dtype in frame.dtypes.items():
        if pd.api.types.is_datetime64_any_dtype(dtype) and not isinstance(dtype, pd.DatetimeTZDtype) and str(dtype) != "datetime64[ns]":
            frame[name] = frame[name].astype("datetime64[ns]")
        elif isinstance(dtype, pd.api.extensions.ExtensionDtype) and pd.api.types.is_integer_dtype(dtype):
            frame[name] = frame[name].astype("float64")
    return frame


def landed_values(landing: Landing, ref: DatasetRef, columns: list[str], con: duckdb.DuckDBPyConnection | None = None) -> list:
    """Distinct typed values (tuples when several columns) of a dataset's fields across every landed batch:
    the keys other datasets must point at."""
    files = batch_files(landing, ref.system.id, ref.dataset.id)
    if not files:
        return []
    con = con or connect()
    present = present_columns(con, files)
    fields = {f.name: f for f in ref.dataset.fields}
    exprs = [field_sql(fields[c]) if c in present else "NULL" for c in columns]
    rows = con.execute(f"SELECT DISTINCT {', '.join(exprs)} FROM {_source(files)} "
                       f"WHERE {' AND '.join(f'({e}) IS NOT NULL' for e in exprs)}").fetchall()
    return [r[0] for r in rows] if len(columns) == 1 else [tuple(r) for r in rows]
