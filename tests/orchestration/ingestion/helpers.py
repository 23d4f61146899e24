"""Helpers for the ingestion tests: read landed batches with DuckDB, fingerprint a folder."""
from __future__ import annotations

from pathlib import Path

import duckdb

from citystat.landing import Landing


def landed(landing: Landing, system: str, dataset: str, sql: str = "SELECT * FROM batch") -> list[tuple]:
    """Query every landed batch of a dataset with DuckDB (as dbt will)."""
    files = sorted(str(p) for p in landing.dataset_dir(system, dataset).glob("*.parquet"))
    if not files:
        return []
    con = duckdb.connect()
    con.execute(f"CREATE VIEW batch AS SELECT * FROM read_parquet({files!r}, union_by_name = true)")
    return con.execute(sql).fetchall()


def snapshot_of(directory: Path) -> dict[str, bytes]:
    """Every file under a folder with its bytes: to prove a rerun changed nothing."""
    return {str(p.relative_to(directory)): p.read_bytes() for p in sorted(directory.rglob("*")) if p.is_file()}
