"""Bulk loading of a simulated system's SQLite store: fast pragmas, chunked executemany, late indexes."""
from __future__ import annotations

import datetime as dt
import sqlite3
from contextlib import contextmanager
from pathlib import Path
from typing import Iterable, Sequence

from demo_city.core import CHUNK_ROWS

# Rows converted to Python tuples at once. Generators plan a calendar month at a time in compact numpy
# arrays (~CHUNK_ROWS rows at scale 100) and format and write it in these smaller slices.
WRITE_BATCH = CHUNK_ROWS // 10


@contextmanager
def bulk_load(path: Path, schema: str, indexes: str):
    """A fresh database at ``path`` with ``schema``; ``indexes`` are created after the rows are in."""
    path = Path(path)
    for suffix in ("", "-wal", "-shm", "-journal"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    conn = sqlite3.connect(path)
    # WAL keeps readers (the demo servers) unblocked; no fsync while generating: a crash means regenerate
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=OFF")
    conn.executescript(schema)
    try:
        yield conn
        conn.executescript(indexes)
        conn.commit()
    finally:
        conn.close()


@contextmanager
def open_store(path: Path):
    """An existing store, for ``advance``; all changes commit together or not at all."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: store missing (generate the demo city first)")
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA journal_mode=WAL")
    try:
        with conn:
            yield conn
    finally:
        conn.close()


def insert(conn: sqlite3.Connection, table: str, columns: Sequence[str], values: Sequence[Sequence]) -> int:
    """Insert column-wise ``values`` (one sequence per column, equal lengths) in batches; returns rows."""
    n = len(values[0]) if values else 0
    names = ", ".join(f'"{c}"' for c in columns)
    sql = f"INSERT INTO {table} ({names}) VALUES ({', '.join('?' * len(columns))})"
    for lo in range(0, n, WRITE_BATCH):
        conn.executemany(sql, zip(*(_as_list(col[lo : lo + WRITE_BATCH]) for col in values)))
    return n


def update(conn: sqlite3.Connection, table: str, key: str, columns: Sequence[str], rows: Iterable[Sequence]) -> None:
    """``UPDATE table SET columns... WHERE key = ?`` for rows of (values..., key)."""
    sets = ", ".join(f'"{c}" = ?' for c in columns)
    conn.executemany(f'UPDATE {table} SET {sets} WHERE "{key}" = ?', rows)


def slices(indices, size: int = WRITE_BATCH):
    """Consecutive pieces of ``indices``: rows are formatted and written one piece at a time."""
    for lo in range(0, len(indices), size):
        yield indices[lo : lo + size]


def _as_list(col) -> list:
    return col.tolist() if hasattr(col, "tolist") else list(col)


def first_number_in_month(conn: sqlite3.Connection, table: str, id_column: str, prefix: str, time_column: str, month) -> int | None:
    """Smallest number in ``id_column`` (ids ``prefix`` + digits) among rows whose ``time_column`` falls in ``month``.

    Generators number a month's records in time order, so this is the month's first number once it has begun.
    """
    nxt = (month.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
    (first,) = conn.execute(
        f'SELECT min(CAST(substr("{id_column}", {len(prefix) + 1}) AS INTEGER)) FROM {table} '
        f'WHERE "{time_column}" >= ? AND "{time_column}" < ?',
        (month.isoformat(), nxt.isoformat()),
    ).fetchone()
    return first
