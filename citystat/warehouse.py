"""The working warehouse (single writer) and the published snapshot: where they live, how to connect.

Every asset that writes DuckDB (dbt models, metrics, publish) runs in the WAREHOUSE_POOL concurrency
pool, so only one process holds the write lock at a time; readers use the published snapshot.
"""
from __future__ import annotations

import os
from pathlib import Path

from citystat.settings import resolve_path, warehouse_dir

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
