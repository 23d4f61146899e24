"""Publish the analysts' snapshot: copy the public schemas of the working warehouse into a new DuckDB
file and swap it in atomically.

Readers (analysts, dashboards) open the snapshot read-only. `os.replace` swaps the directory entry, so a
reader holding the old file keeps reading the old, complete version and the next open sees the new one:
nobody waits on the pipeline's write lock and nobody sees a half-written table.
"""
from __future__ import annotations

import os
import shutil
import uuid
from dataclasses import dataclass
from pathlib import Path

import duckdb

from citystat.settings import duckdb_config
from citystat.warehouse import quote_identifier, quote_literal

PUBLISHED_SCHEMAS = ("marts", "metrics", "inventory", "quality")
# @duckdb/node-api 1.4 (the dashboards' engine) cannot read DuckDB 2.0's default storage format
SNAPSHOT_STORAGE_VERSION = "v1.4.0"


@dataclass(frozen=True)
class PublishedTable:
    schema: str
    name: str
    rows: int
    copied: bool = True  # False: its content equalled the previous snapshot's, which was kept


def publish_snapshot(work_db: Path, snapshot: Path, schemas: tuple[str, ...] = PUBLISHED_SCHEMAS) -> list[PublishedTable]:
    """Copy every table and view of ``schemas`` from ``work_db`` into ``snapshot`` (as tables), atomically.

    The new snapshot starts as a file copy of the previous one (no table is decoded or re-encoded), and only the
    tables whose digest (columns, comments, rows as a multiset) differs from the work database's are rewritten:
    a day that changed a few tables writes a few tables. Readers still only ever see a whole file."""
    work_db, snapshot = Path(work_db), Path(snapshot)
    if not work_db.exists():
        raise FileNotFoundError(f"{work_db}: working warehouse not found (run `citystat run` first)")
    snapshot.parent.mkdir(parents=True, exist_ok=True)
    tmp = snapshot.with_name(f".{snapshot.name}.{uuid.uuid4().hex}.tmp")
    published: list[PublishedTable] = []
    con = duckdb.connect(config=duckdb_config())
    try:
        con.execute(f"ATTACH {quote_literal(work_db)} AS work (READ_ONLY)")
        if snapshot.exists():
            shutil.copyfile(snapshot, tmp)
            con.execute(f"ATTACH {quote_literal(tmp)} AS snap")
        else:
            con.execute(f"ATTACH {quote_literal(tmp)} AS snap (STORAGE_VERSION {quote_literal(SNAPSHOT_STORAGE_VERSION)})")
        objects = con.execute(
            """
            SELECT table_schema, table_name, table_comment FROM (
                SELECT schema_name AS table_schema, table_name, comment AS table_comment
                FROM duckdb_tables() WHERE database_name = 'work'
                UNION ALL
                SELECT schema_name, view_name, comment FROM duckdb_views()
                WHERE database_name = 'work' AND NOT internal
            ) WHERE table_schema IN (SELECT unnest(?::VARCHAR[]))
            ORDER BY 1, 2
            """,
            [list(schemas)],
        ).fetchall()
        kept = con.execute("SELECT schema_name, table_name FROM duckdb_tables() WHERE database_name = 'snap'").fetchall()
        for schema, name in set(kept) - {(s, n) for s, n, _ in objects}:
            con.execute(f"DROP TABLE snap.{quote_identifier(schema)}.{quote_identifier(name)}")
        for schema in sorted({s for s, _, _ in objects}):
            con.execute(f"CREATE SCHEMA IF NOT EXISTS snap.{quote_identifier(schema)}")
        for schema, name, comment in objects:
            target = f"snap.{quote_identifier(schema)}.{quote_identifier(name)}"
            if (schema, name) in kept and table_digest(con, "snap", schema, name) == table_digest(con, "work", schema, name):
                rows = con.execute(f"SELECT count(*) FROM {target}").fetchall()[0][0]
                published.append(PublishedTable(schema, name, rows, copied=False))
                continue
            con.execute(f"CREATE OR REPLACE TABLE {target} AS SELECT * FROM work.{quote_identifier(schema)}.{quote_identifier(name)}")
            if comment:
                con.execute(f"COMMENT ON TABLE {target} IS {quote_literal(comment)}")
            # Carry column documentation (dbt persist_docs) so analysts see it in the snapshot too
            for column, col_comment in con.execute(
                "SELECT column_name, comment FROM duckdb_columns() WHERE database_name='work' "
                "AND schema_name=? AND table_name=? AND comment IS NOT NULL",
                [schema, name],
            ).fetchall():
                con.execute(f"COMMENT ON COLUMN {target}.{quote_identifier(column)} IS {quote_literal(col_comment)}")
            rows = con.execute(f"SELECT count(*) FROM {target}").fetchone()[0]
            published.append(PublishedTable(schema, name, rows))
        con.execute("CHECKPOINT snap")  # blocks freed by replaced tables are reused, so the file does not keep growing
        con.execute("DETACH snap")
        con.execute("DETACH work")
    except BaseException:
        con.close()
        tmp.unlink(missing_ok=True)
        raise
    con.close()
    os.replace(tmp, snapshot)
    return published


def table_digest(con: duckdb.DuckDBPyConnection, catalog: str, schema: str, name: str) -> tuple:
    """A table's columns, types and comments, and its rows as a multiset (count, sum and xor of row hashes).
    Also what the open-data exports compare to know which snapshot tables changed (citystat/open_data/record.py)."""
    columns = con.execute(
        "SELECT column_name, data_type, comment FROM duckdb_columns() WHERE database_name = ? AND schema_name = ? "
        "AND table_name = ? ORDER BY column_index", [catalog, schema, name]).fetchall()
    comment = con.execute(
        "SELECT comment FROM duckdb_tables() WHERE database_name = ? AND schema_name = ? AND table_name = ? "
        "UNION ALL SELECT comment FROM duckdb_views() WHERE database_name = ? AND schema_name = ? AND view_name = ?",
        [catalog, schema, name] * 2).fetchall()
    qualified = f"{quote_identifier(catalog)}.{quote_identifier(schema)}.{quote_identifier(name)}"
    rows = con.execute(f"SELECT count(*), coalesce(sum(hash(t)), 0)::VARCHAR, coalesce(bit_xor(hash(t)), 0) FROM {qualified} t").fetchall()
    return columns, comment, rows
