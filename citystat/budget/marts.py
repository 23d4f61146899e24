"""Reading the marts the budget metrics need, with a clear error naming the missing table or column."""
from __future__ import annotations

import duckdb
import pandas as pd


class MissingMartError(LookupError):
    """A mart (or a column of it) the budget metrics read is not in the warehouse."""


def has_table(con: duckdb.DuckDBPyConnection, qualified: str) -> bool:
    schema, table = qualified.split(".", 1)
    return bool(con.execute(
        "SELECT count(*) FROM information_schema.tables WHERE table_schema = ? AND table_name = ?",
        [schema, table]).fetchone()[0])


def columns_of(con: duckdb.DuckDBPyConnection, qualified: str) -> list[str]:
    schema, table = qualified.split(".", 1)
    return [r[0] for r in con.execute(
        "SELECT column_name FROM information_schema.columns WHERE table_schema = ? AND table_name = ? ORDER BY ordinal_position",
        [schema, table]).fetchall()]


def require(con: duckdb.DuckDBPyConnection, qualified: str, columns: list[str] | tuple[str, ...], needed_for: str) -> None:
    """Raise MissingMartError unless ``qualified`` exists with every one of ``columns``."""
    if not has_table(con, qualified):
        raise MissingMartError(f"{needed_for} needs {qualified} (columns {', '.join(columns)}); it is not in the warehouse "
                               f"(build the marts first: dbt build)")
    missing = [c for c in columns if c not in columns_of(con, qualified)]
    if missing:
        raise MissingMartError(f"{needed_for} needs column(s) {', '.join(missing)} in {qualified}")


def read(con: duckdb.DuckDBPyConnection, sql: str, params: list | None = None) -> pd.DataFrame:
    return con.execute(sql, params or []).df()
