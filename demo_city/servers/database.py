"""Read-only access to a simulated system's SQLite store, opened fresh for every request.

Opening per request means ``demo-city advance`` (or a regenerated city) is visible at once; the
generator writes in WAL mode, so readers never block it. Read-only URI mode plus ``query_only``
means no request can change the store, whatever SQL reaches it.
"""
from __future__ import annotations

import sqlite3
from contextlib import contextmanager
from pathlib import Path


class StoreUnavailable(RuntimeError):
    """The store's file is missing (e.g. the city is being regenerated)."""


@contextmanager
def read_only(path: Path):
    path = Path(path).resolve()
    if not path.is_file():
        raise StoreUnavailable(f"{path} does not exist")
    conn = sqlite3.connect(f"{path.as_uri()}?mode=ro", uri=True, timeout=10)
    try:
        conn.row_factory = sqlite3.Row
        conn.execute("PRAGMA query_only = ON")
        yield conn
    finally:
        conn.close()


def table_columns(conn: sqlite3.Connection, table: str) -> list[tuple[str, str]]:
    """[(column name, declared type)] in table order."""
    return [(row["name"], row["type"]) for row in conn.execute(f"PRAGMA table_info(\"{table}\")")]
