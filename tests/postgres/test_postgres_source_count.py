"""The SQL connector on a real PostgreSQL: count(*) and the rows come from one REPEATABLE READ snapshot, so a
snapshot load records the server's own count as ``source_rows`` and lands exactly that many rows."""
from __future__ import annotations

import psycopg
import pytest

from citystat.connectors import ConnectorOptions, SourceSpec, build_connector
from citystat.landing import Landing


@pytest.mark.timeout(120)
def test_a_postgres_snapshot_lands_exactly_the_servers_count(postgres_url, tmp_path):
    with psycopg.connect(postgres_url, autocommit=True) as con:
        con.execute("create table work_orders (work_order_id text primary key, updated_at text, labor_hours real)")
        with con.cursor() as cur:
            cur.executemany("insert into work_orders values (%s, %s, %s)",
                            [(f"WO-{i:05d}", f"2026-10-{1 + i % 28:02d} 08:00:00", i / 4) for i in range(1234)])
    url = postgres_url.replace("postgresql://", "postgresql+psycopg://", 1)
    spec = SourceSpec("pw_mms", "work_orders", "postgres", url, "work_orders", primary_key=("work_order_id",))
    landing = Landing(tmp_path / "landing")
    result = landing.load(build_connector(spec, ConnectorOptions(chunk_rows=500)))
    assert (result.rows, result.source_rows) == (1234, 1234)
