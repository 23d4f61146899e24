"""Writing a budget metric to ``metrics.<table>``: replaced whole (idempotent reruns) and documented with
COMMENT ON, which publish carries into the analysts' snapshot (docs/contracts.md, "Metrics assets")."""
from __future__ import annotations

import duckdb
import pandas as pd

SCHEMA = "metrics"


def _quote(text: str) -> str:
    return "'" + str(text).replace("'", "''") + "'"


def _is_text(series: pd.Series) -> bool:
    return pd.api.types.is_object_dtype(series) or pd.api.types.is_string_dtype(series)


def write_table(con: duckdb.DuckDBPyConnection, table: str, frame: pd.DataFrame, description: str,
                column_docs: dict[str, str], column_types: dict[str, str] | None = None) -> int:
    """CREATE OR REPLACE ``metrics.<table>`` from ``frame``; every column must be documented. ``column_types``
    casts columns to a SQL type (e.g. DATE). Returns the rows."""
    undocumented = [c for c in frame.columns if c not in column_docs]
    if undocumented:
        raise ValueError(f"metrics.{table}: column(s) {', '.join(undocumented)} have no description")
    # text columns stay VARCHAR even when every value is NULL (DuckDB would guess INTEGER)
    types = {c: "VARCHAR" for c in frame.columns if _is_text(frame[c])} | (column_types or {})
    select = ", ".join(f'CAST("{c}" AS {types[c]}) AS "{c}"' if c in types else f'"{c}"' for c in frame.columns)
    view = f"_budget_{table}_frame"
    con.register(view, frame)
    try:
        con.execute(f"CREATE SCHEMA IF NOT EXISTS {SCHEMA}")
        con.execute(f"CREATE OR REPLACE TABLE {SCHEMA}.{table} AS SELECT {select} FROM {view}")
    finally:
        con.unregister(view)
    con.execute(f"COMMENT ON TABLE {SCHEMA}.{table} IS {_quote(description)}")
    for column in frame.columns:
        con.execute(f'COMMENT ON COLUMN {SCHEMA}.{table}."{column}" IS {_quote(column_docs[column])}')
    return len(frame)
