"""SQL sources reconcile against the database's own count(*), taken in the same read as the rows: a snapshot's
count is its ledger ``source_rows``; a source whose count and rows disagree (here a view with a nondeterministic
filter, the way a table rewritten between two unsynchronised statements looks) fails that load naming the dataset
and both counts, and nothing commits. Real SQLite files; PostgreSQL in tests/postgres/test_postgres_source_count.py."""
from __future__ import annotations

import json
import re
import sqlite3

import pytest

from citystat.connectors import ConnectorOptions, RetryPolicy, SourceError, SourceSpec, build_connector
from citystat.landing import Landing
from hostile_table import record

OPTIONS = ConnectorOptions(retry=RetryPolicy(attempts=2, initial_wait=0.01, max_wait=0.05), chunk_rows=700,
                           sqlite_busy_timeout=0.05)


def make_db(path, rows: int):
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE stations (station_id TEXT PRIMARY KEY, updated_at TEXT, name TEXT)")
        conn.executemany("INSERT INTO stations VALUES (?, ?, ?)",
                         [(f"ST-{i:05d}", f"2026-10-{1 + i % 28:02d} 08:00:00", f"Station {i}") for i in range(rows)])
        # rows that come and go between two statements: count(*) and the rows it is compared with disagree
        conn.execute("CREATE VIEW unstable AS SELECT * FROM stations WHERE abs(random()) % 2 = 0")
    return path


def spec(db, table="stations", cursor=None):
    return SourceSpec("fire_cad", "stations", "sqlite", str(db), table, cursor_field=cursor, primary_key=("station_id",))


def ledger(landing: Landing) -> list[dict]:
    return [json.loads(line) for line in landing.ledger_path.read_text().splitlines()] if landing.ledger_path.exists() else []


@pytest.mark.timeout(60)
def test_a_snapshot_records_the_databases_own_count_and_an_incremental_load_checks_it(tmp_path):
    db = make_db(tmp_path / "cad.sqlite", rows=2100)
    landing = Landing(tmp_path / "landing")
    result = landing.load(build_connector(spec(db), OPTIONS))
    assert result.rows == 2100 and result.source_rows == 2100  # 3 chunks of 700, counted by the database
    assert ledger(landing)[-1]["source_rows"] == 2100
    incremental = Landing(tmp_path / "landing2").load(build_connector(spec(db, cursor="updated_at"), OPTIONS))
    assert incremental.rows == 2100


@pytest.mark.timeout(60)
def test_a_source_whose_count_disagrees_with_its_rows_fails_naming_both_and_commits_nothing(tmp_path):
    db = make_db(tmp_path / "cad.sqlite", rows=10_000)
    landing = Landing(tmp_path / "landing")
    messages = []
    for _ in range(3):  # about 5,000 of 10,000 rows each time: two equal draws in a row are a ~1-in-200 chance
        try:
            landing.load(build_connector(spec(db, table="unstable"), OPTIONS))
        except SourceError as exc:
            messages.append(str(exc))
            break
    assert messages, "count(*) and the rows agreed three times running: the view did not vary"
    (message,) = messages
    assert message.startswith("fire_cad.stations: unstable counts ") and " rows (count(*)) but " in message, message
    assert "nothing of this load is committed" in message
    assert not list((tmp_path / "landing").rglob("*.parquet")) and not any(e.get("rows") for e in ledger(landing))
    counted = int(re.search(r"counts (\d+) rows", message).group(1))
    # nothing landed and nothing half-landed: every counted row is still in the named source for the next load
    record("sql_count_disagrees_with_rows", "sql", "load refused, names counts", counted, counted, message)
