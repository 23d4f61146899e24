"""The working warehouse (single writer) and the published snapshot: where they live, how to read a table
from it and the one way to write a documented table to it.

The reading and writing helpers (has_table, columns_of, require, read, scalar, write_table, comment_table) take
either a DuckDB connection (the default warehouse) or a SQLAlchemy Core connection (the warehouse on PostgreSQL,
``CITYSTAT_WAREHOUSE_POSTGRES_URL``): code written against them, in SQL both engines speak, runs on either.

Every asset that writes DuckDB (dbt models, metrics, publish) runs in the WAREHOUSE_POOL concurrency
pool, so only one process holds the write lock at a time; readers use the published snapshot.
"""
from __future__ import annotations

import datetime as dt
import decimal
import os
import re
import uuid
import warnings
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

import duckdb
import pandas as pd

from citystat.settings import duckdb_config, resolve_path, warehouse_dir

WAREHOUSE_POOL = "warehouse_writer"
WORK_DB_ENV = "CITYSTAT_WORK_DB"
SNAPSHOT_ENV = "CITYSTAT_SNAPSHOT"


def work_db_path() -> Path:
    """The working warehouse dbt and the metrics assets write (``CITYSTAT_WORK_DB``, default ``<warehouse>/work.duckdb``)."""
    value = os.environ.get(WORK_DB_ENV)
    return resolve_path(value) if value else warehouse_dir() / "work.duckdb"


def snapshot_path() -> Path:
    """The analysts' read-only snapshot (``CITYSTAT_SNAPSHOT``, default ``<warehouse>/citystat.duckdb``)."""
    value = os.environ.get(SNAPSHOT_ENV)
    return resolve_path(value) if value else warehouse_dir() / "citystat.duckdb"


def readable_warehouse(db: Path | None = None) -> Path:
    """Where a command reads the marts from: `db` if given, else the published snapshot, else the working warehouse."""
    if db is not None:
        if not Path(db).exists():
            raise FileNotFoundError(f"{db}: no such warehouse file")
        return Path(db)
    for candidate in (snapshot_path(), work_db_path()):
        if candidate.exists():
            return candidate
    raise FileNotFoundError(f"no warehouse found ({snapshot_path()} or {work_db_path()}): build the marts first or pass --db")


# ---- SQL text: the one audited place identifiers and literals are quoted -----------------------------------------
# DuckDB binds values as parameters, but not names (CREATE TABLE, COMMENT ON) nor COMMENT ON's text; every such
# piece of SQL is built with these two functions, so there is one escaping rule to audit.

def quote_identifier(name: str) -> str:
    """``name`` as a double-quoted SQL identifier (embedded quotes doubled)."""
    return '"' + str(name).replace('"', '""') + '"'


def quote_literal(text: str) -> str:
    """``text`` as a single-quoted SQL string literal (for statements that take no bound parameters).

    Standard SQL strings (DuckDB, PostgreSQL with standard_conforming_strings) know one escape, the doubled
    quote: backslashes, semicolons, comment markers and NUL are ordinary characters inside '...'. The dbt twin
    is the ``sql_literal`` macro (dbt_project/macros/sql_text.sql); tests/hostile/test_sql_injection.py feeds both
    hostile strings and checks DuckDB gives the text back unchanged."""
    return "'" + str(text).replace("'", "''") + "'"


_JINJA_OPENERS = ("{{", "{%", "{#")


def jinja_inert(text):
    """``text`` written into a file dbt renders with Jinja (YAML properties, MetricFlow filters) so that rendering
    gives it back unchanged: every ``{`` of a text holding a Jinja opener becomes ``{{ '{' }}``. Other values pass."""
    if not isinstance(text, str) or not any(opener in text for opener in _JINJA_OPENERS):
        return text
    return text.replace("{", "{{ '{' }}")


def quote_table(qualified: str) -> str:
    """``schema.table`` with each part quoted."""
    schema, table = _split(qualified)
    return f"{quote_identifier(schema)}.{quote_identifier(table)}"


def _split(qualified: str) -> tuple[str, str]:
    schema, _, table = qualified.partition(".")
    if not schema or not table:
        raise ValueError(f"{qualified!r}: expected schema.table")
    return schema, table


# ---- reading: tables the warehouse must already hold -----------------------------------------------------------

class MissingMartError(LookupError):
    """A table (or a column of it) a metric reads is not in the warehouse."""


def is_duckdb(con) -> bool:
    """A DuckDB connection; anything else is a SQLAlchemy Core connection (PostgreSQL)."""
    return isinstance(con, duckdb.DuckDBPyConnection)


def has_table(con: duckdb.DuckDBPyConnection, qualified: str) -> bool:
    schema, table = _split(qualified)
    if not is_duckdb(con):
        from sqlalchemy import inspect

        return inspect(con).has_table(table, schema=schema)
    # fetchall: DuckDB 2.0 keeps a fetchone()'d result open, and then refuses con.register on the connection
    return bool(con.execute(
        "SELECT count(*) FROM information_schema.tables WHERE table_schema = ? AND table_name = ?",
        [schema, table]).fetchall()[0][0])


def columns_of(con: duckdb.DuckDBPyConnection, qualified: str) -> list[str]:
    schema, table = _split(qualified)
    if not is_duckdb(con):
        from sqlalchemy import inspect

        return [c["name"] for c in inspect(con).get_columns(table, schema=schema)]
    return [r[0] for r in con.execute(
        "SELECT column_name FROM information_schema.columns WHERE table_schema = ? AND table_name = ? "
        "ORDER BY ordinal_position", [schema, table]).fetchall()]


def require(con: duckdb.DuckDBPyConnection, qualified: str, columns: list[str] | tuple[str, ...], needed_for: str) -> None:
    """Raise MissingMartError unless ``qualified`` exists with every one of ``columns``."""
    if not has_table(con, qualified):
        raise MissingMartError(f"{needed_for} needs {qualified} (columns {', '.join(columns)}); it is not in the warehouse "
                               f"(build the marts first: dbt build)")
    missing = [c for c in columns if c not in columns_of(con, qualified)]
    if missing:
        raise MissingMartError(f"{needed_for} needs column(s) {', '.join(missing)} in {qualified}")


def read(con: duckdb.DuckDBPyConnection, sql: str, params: list | Mapping | None = None) -> pd.DataFrame:
    """The rows of ``sql`` as a DataFrame, in the dtypes DuckDB gives on either engine (``as_duckdb_dtypes``).
    Parameters: a mapping for ``:name`` placeholders (both engines, see ``execute``); a list for DuckDB's ``?``
    (DuckDB only)."""
    if not is_duckdb(con):
        if params is not None and not isinstance(params, Mapping):
            raise ValueError("read(): positional parameters (?) are DuckDB-only; portable SQL names them (:name)")
        from sqlalchemy import text

        statement = text(sql) if params else _text(sql)
        return as_duckdb_dtypes(pd.read_sql_query(statement, con, params=_bindable(params) if params else None))
    if isinstance(params, Mapping):
        return con.execute(_duckdb_named(sql), _bindable(params)).df()
    return con.execute(sql, params or []).df()


def cap_memory(con: duckdb.DuckDBPyConnection) -> duckdb.DuckDBPyConnection:
    """Put a connection to a DuckDB file under the run's memory cap (settings.duckdb_config), set after connecting:
    a connection configured at connect time cannot open a file another connection of the same process holds."""
    for name, value in duckdb_config().items():
        con.execute(f"SET {quote_identifier(name)} = {quote_literal(value)}")
    return con


def open_file(path: str | os.PathLike, read_only: bool = True) -> duckdb.DuckDBPyConnection:
    """A DuckDB file opened under the run's memory cap (``cap_memory``)."""
    return cap_memory(duckdb.connect(str(path), read_only=read_only))


def read_chunks(con, sql: str, params: Mapping, vectors: int = 100) -> Iterator[pd.DataFrame]:
    """``read`` a chunk at a time (``vectors`` x 2,048 rows), for a caller that keeps only some rows of a large
    table: the chunks have ``read``'s dtypes on either engine. Parameters: a mapping for ``:name`` placeholders."""
    if not is_duckdb(con):
        from sqlalchemy import text

        for chunk in pd.read_sql_query(text(sql), con, params=_bindable(params), chunksize=vectors * 2048):
            yield as_duckdb_dtypes(chunk)
        return
    result = con.execute(_duckdb_named(sql), _bindable(params))
    while True:
        with warnings.catch_warnings():  # DuckDB's own chunk reader trips a pandas deprecation inside it
            warnings.simplefilter("ignore")
            chunk = result.fetch_df_chunk(vectors)
        if chunk.empty:
            return
        yield chunk


def as_duckdb_dtypes(frame: pd.DataFrame) -> pd.DataFrame:
    """A frame read from PostgreSQL in the dtypes DuckDB's ``.df()`` gives, so code after a read is one path:
    dates as timestamps (psycopg gives ``datetime.date`` objects), numeric (``Decimal``) as float."""
    for name in frame.columns:
        values = frame[name].dropna()
        if not pd.api.types.is_object_dtype(frame[name]) or values.empty:
            continue
        first = values.iloc[0]
        if isinstance(first, (dt.date, dt.datetime)):
            frame[name] = pd.to_datetime(frame[name])
        elif isinstance(first, decimal.Decimal):
            frame[name] = frame[name].astype("float64")
    return frame


# ---- statements with named parameters, on either engine ---------------------------------------------------------
# Portable SQL names its parameters ``:name`` (SQLAlchemy's text()); on DuckDB the same placeholders become
# ``$name`` by SQLAlchemy's own rule for finding them, so one statement text serves both engines.

_NAMED_PARAMETER = re.compile(r"(?<![:\w\x5c]):(\w+)(?![:\w])")  # sqlalchemy.sql.elements.TextClause._bind_params_regex


def _duckdb_named(sql: str) -> str:
    return _NAMED_PARAMETER.sub(r"$\1", sql).replace("\\:", ":")


def _bindable(params: Mapping) -> dict:
    """Parameter values as plain Python (numpy scalars, pandas timestamps and NaT are not every driver's)."""
    import numpy as np

    def plain(value):
        if value is None or value is pd.NaT:
            return None
        if isinstance(value, pd.Timestamp):
            return value.to_pydatetime()
        if isinstance(value, np.generic):
            return value.item()
        return value
    return {name: plain(value) for name, value in params.items()}


def execute(con: duckdb.DuckDBPyConnection, sql: str, params: Mapping | None = None) -> None:
    """Run one statement with ``:name`` parameters on either engine."""
    if is_duckdb(con):
        con.execute(_duckdb_named(sql), _bindable(params or {}))
    else:
        from sqlalchemy import text

        con.execute(text(sql), _bindable(params or {}))


def fetch(con: duckdb.DuckDBPyConnection, sql: str, params: Mapping | None = None) -> list[dict]:
    """The rows of ``sql`` (``:name`` parameters) as dicts of plain Python values, on either engine."""
    if is_duckdb(con):
        cursor = con.execute(_duckdb_named(sql), _bindable(params or {}))
        names = [d[0] for d in cursor.description]
        return [dict(zip(names, row)) for row in cursor.fetchall()]
    from sqlalchemy import text

    return [dict(row) for row in con.execute(text(sql), _bindable(params or {})).mappings().all()]


@contextmanager
def transaction(con: duckdb.DuckDBPyConnection):
    """All or nothing: a DuckDB transaction; on PostgreSQL a savepoint inside the step's own transaction (which
    commits when the step ends), so a failure here leaves the tables as they were."""
    if not is_duckdb(con):
        with con.begin_nested():
            yield
        return
    con.begin()
    try:
        yield
        con.commit()
    except BaseException:
        con.rollback()
        raise


def scalar(con: duckdb.DuckDBPyConnection, sql: str):
    """The first column of the first row of ``sql`` (None when there is no row)."""
    if not is_duckdb(con):
        return con.execute(_text(sql)).scalar()
    rows = con.execute(sql).fetchall()  # fetchall: see has_table
    return rows[0][0] if rows else None


# ---- SQL fragments whose spelling differs by engine (the dbt project's twins: macros/warehouse_sql.sql) ---------
# Portable SQL is preferred (``CAST(b AS DATE) - CAST(a AS DATE)`` for date_diff, ``substr(CAST(d AS VARCHAR), 1, 7)``
# for a month, ``DOUBLE PRECISION``); these are the aggregates PostgreSQL 15 lacks. Their arguments are SQL the code
# wrote (column names), never values.

def value_at_max(con, value: str, order_by: str) -> str:
    """The aggregate giving ``value`` on the row where ``order_by`` is largest, rows where either is NULL ignored
    (DuckDB's ``arg_max``)."""
    if is_duckdb(con):
        return f"arg_max({value}, {order_by})"
    return f"(array_agg({value} ORDER BY {order_by} DESC) FILTER (WHERE {order_by} IS NOT NULL AND {value} IS NOT NULL))[1]"


def any_value_of(con, value: str) -> str:
    """The aggregate giving one of the group's values of ``value`` (meant for a per-group constant; PostgreSQL 15
    has no ``any_value``: ``min`` there)."""
    return f"any_value({value})" if is_duckdb(con) else f"min({value})"


# ---- writing: a DataFrame replaces a documented table ----------------------------------------------------------

def _is_text(series: pd.Series) -> bool:
    # strings (or nothing at all) stay VARCHAR; DuckDB would guess INTEGER for an all-NULL column
    if not (pd.api.types.is_object_dtype(series) or pd.api.types.is_string_dtype(series)):
        return False
    return pd.api.types.infer_dtype(series, skipna=True) in ("string", "empty", "mixed")


def comment_table(con: duckdb.DuckDBPyConnection, qualified: str, description: str,
                  column_docs: Mapping[str, str] | None = None) -> None:
    """COMMENT ON the table and its columns (publish carries comments into the analysts' snapshot)."""
    target = quote_table(qualified)
    statements = [f"COMMENT ON TABLE {target} IS {quote_literal(description)}"]
    statements += [f"COMMENT ON COLUMN {target}.{quote_identifier(column)} IS {quote_literal(text)}"
                   for column, text in (column_docs or {}).items()]
    for statement in statements:
        _execute(con, statement)


def _execute(con, statement: str) -> None:
    """One statement with no parameters, on either engine."""
    if is_duckdb(con):
        con.execute(statement)
    else:
        con.execute(_text(statement))


def _text(sql: str):
    """``sql`` (no parameters) as a SQLAlchemy ``text()``: its colons escaped, since text() would read ``:word`` in
    a literal or a comment as a bound parameter (``::`` casts are given back unchanged)."""
    from sqlalchemy import text

    return text(sql.replace(":", "\\:"))


def write_table(con: duckdb.DuckDBPyConnection, qualified: str, frame: pd.DataFrame, description: str,
                column_docs: Mapping[str, str] | None = None, types: Mapping[str, str] | None = None) -> int:
    """CREATE OR REPLACE ``schema.table`` from ``frame`` (reruns are idempotent) and document it.

    When ``column_docs`` is given every column must be in it (an undocumented column is an error). ``types``
    casts columns to a SQL type (e.g. ``{"period_month": "DATE"}``). Returns the rows written."""
    if column_docs is not None:
        undocumented = [c for c in frame.columns if c not in column_docs]
        if undocumented:
            raise ValueError(f"{qualified}: column(s) {', '.join(map(str, undocumented))} have no description")
    casts = {c: "VARCHAR" for c in frame.columns if _is_text(frame[c])} | dict(types or {})
    unknown = set(casts) - set(frame.columns)
    if unknown:
        raise ValueError(f"{qualified}: types given for column(s) not in the frame: {', '.join(sorted(unknown))}")
    for sql_type in casts.values():
        if not _SQL_TYPE.match(sql_type):
            raise ValueError(f"{qualified}: {sql_type!r} is not a SQL type name")
    select = ", ".join(
        f"CAST({quote_identifier(c)} AS {casts[c]}) AS {quote_identifier(c)}" if c in casts else quote_identifier(c)
        for c in frame.columns)
    schema, _ = _split(qualified)
    if not is_duckdb(con):
        _write_portable(con, qualified, frame, casts)
        comment_table(con, qualified, description, {c: column_docs[c] for c in frame.columns} if column_docs else None)
        return len(frame)
    view = f"_write_{uuid.uuid4().hex}"
    con.register(view, frame)
    try:
        con.execute(f"CREATE SCHEMA IF NOT EXISTS {quote_identifier(schema)}")
        con.execute(f"CREATE OR REPLACE TABLE {quote_table(qualified)} AS SELECT {select} FROM {quote_identifier(view)}")
    finally:
        con.unregister(view)
    comment_table(con, qualified, description, {c: column_docs[c] for c in frame.columns} if column_docs else None)
    return len(frame)


def _write_portable(con, qualified: str, frame: pd.DataFrame, casts: Mapping[str, str]) -> None:
    """The table replaced by ``frame`` through SQLAlchemy Core (pandas ``to_sql``), in the caller's transaction:
    each cast becomes the column's SQL type and its values are converted the way DuckDB's CAST would."""
    import sqlalchemy as sa

    schema, table = _split(qualified)
    converted, dtypes = frame.copy(), {}
    for column, sql_type in casts.items():
        kind = sql_type.split("(")[0].strip().upper()
        values = converted[column]
        if kind in ("VARCHAR", "TEXT"):
            converted[column] = values.map(lambda v: None if v is None or (not isinstance(v, str) and pd.isna(v)) else str(v))
            dtypes[column] = sa.Text()
        elif kind in ("DOUBLE", "FLOAT", "REAL", "DECIMAL", "NUMERIC"):
            converted[column] = pd.to_numeric(values).astype("float64")
            dtypes[column] = sa.Double()
        elif kind in ("INTEGER", "BIGINT", "SMALLINT"):
            converted[column] = pd.to_numeric(values).astype("Int64")
            dtypes[column] = sa.Integer() if kind == "INTEGER" else sa.BigInteger()
        elif kind == "BOOLEAN":
            converted[column] = values.astype(object).where(values.notna(), None)
            dtypes[column] = sa.Boolean()
        elif kind == "DATE":
            converted[column] = pd.to_datetime(values).dt.date.astype(object).where(values.notna(), None)
            dtypes[column] = sa.Date()
        elif kind == "TIMESTAMP":
            converted[column] = pd.to_datetime(values)
            dtypes[column] = sa.DateTime()
        else:
            raise ValueError(f"{qualified}: {sql_type!r} has no portable equivalent")
    con.execute(sa.text(f"CREATE SCHEMA IF NOT EXISTS {quote_identifier(schema)}"))
    converted.to_sql(table, con, schema=schema, if_exists="replace", index=False, dtype=dtypes, chunksize=10_000)


_SQL_TYPE = re.compile(r"^[A-Za-z][A-Za-z0-9_ ]*(\([0-9, ]+\))?$")  # a type name is spliced, so only names pass
