"""The SQL connector on a real PostgreSQL: count(*) and the rows come from one REPEATABLE READ snapshot, so a
snapshot load records the server's own count as ``source_rows`` and lands exactly that many rows."""
from __future__ import annotations

import psycopg
import pytest

from citystat.connectors import ConnectorOptions, SourceSpec, SourceUnavailable, build_connector
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


@pytest.mark.timeout(120)
def test_a_postgres_query_that_never_ends_fails_at_the_asset_deadline(postgres_url, tmp_path):
    """statement_timeout holds the count and the query to what is left of the asset deadline: a server that stops
    answering (here a view that sleeps an hour) fails the dataset naming the database, attempts and time spent."""
    with psycopg.connect(postgres_url, autocommit=True) as con:
        con.execute("create view incidents as select 1 as incident_id from pg_sleep(3600)")
    url = postgres_url.replace("postgresql://", "postgresql+psycopg://", 1)
    spec = SourceSpec("fire_cad", "incidents", "postgres", url, "incidents")
    landing = Landing(tmp_path / "landing")
    with pytest.raises(SourceUnavailable) as raised:
        landing.load(build_connector(spec, ConnectorOptions(asset_deadline=3.0)))
    message = str(raised.value)
    assert "reading incidents from postgresql+psycopg://" in message and "1 attempt(s)" in message, message
    assert "opening the read (count and query) did not finish within its" in message and "statement timeout" in message
    assert landing.entries() == []
