"""The SQL connector on real SQLite files: incremental by cursor, snapshots, locks, dirty types."""
from __future__ import annotations

import sqlite3
import threading
import time

import pytest

from citystat.connectors import RetryPolicy, SourceError, SourceSpec, SourceUnavailable, build_connector

from .helpers import landed, snapshot_of


def make_db(path, rows=2500):
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE work_orders (work_order_id TEXT PRIMARY KEY, updated_at TEXT, labor_hours REAL, "
                     "crew_size INTEGER, note TEXT)")
        # Ten rows share every timestamp, so chunk and cursor boundaries fall inside ties.
        conn.executemany("INSERT INTO work_orders VALUES (?, ?, ?, ?, ?)", [
            (f"WO-{i:06d}", f"2026-10-{1 + i // 2000:02d} 08:{(i // 10) % 60:02d}:{(i // 600) % 60:02d}", i / 4, i % 7, None)
            for i in range(rows)
        ])
    return path


def spec_for(path, cursor="updated_at", table="work_orders"):
    return SourceSpec("pw_mms", "work_orders", "sqlite", str(path), table, cursor_field=cursor,
                      primary_key=("work_order_id",))


def test_incremental_load_streams_chunks_and_resumes_after_ties(tmp_path, landing, fast):
    db = make_db(tmp_path / "mms.sqlite")
    first = landing.load(build_connector(spec_for(db), fast))
    assert first.rows == 2500
    assert landed(landing, "pw_mms", "work_orders",
                  "SELECT count(DISTINCT work_order_id), typeof(any_value(labor_hours)), typeof(any_value(crew_size)) FROM batch") \
        == [(2500, "DOUBLE", "BIGINT")]

    with sqlite3.connect(db) as conn:
        conn.execute("INSERT INTO work_orders VALUES ('WO-999999', ?, 1.5, 2, 'tie at the cursor')", (first.cursor,))
        conn.execute("UPDATE work_orders SET labor_hours = 99, updated_at = '2026-10-31 09:00:00' WHERE work_order_id = 'WO-000001'")
    second = landing.load(build_connector(spec_for(db), fast))
    before = snapshot_of(landing.root)
    third = landing.load(build_connector(spec_for(db), fast))

    assert second.rows == 2 and second.cursor == "2026-10-31 09:00:00"
    assert sorted(landed(landing, "pw_mms", "work_orders",
                         f"SELECT work_order_id, _source_cursor FROM batch WHERE _load_id = '{second.load_id}'")) == [
        ("WO-000001", "2026-10-31 09:00:00"), ("WO-999999", first.cursor)]
    assert not third.landed and snapshot_of(landing.root) == before


def test_snapshot_table_lands_again_only_when_it_changed(tmp_path, landing, fast):
    db = make_db(tmp_path / "mms.sqlite", rows=50)
    spec = spec_for(db, cursor=None)
    first = landing.load(build_connector(spec, fast))
    same = landing.load(build_connector(spec, fast))
    with sqlite3.connect(db) as conn:
        conn.execute("UPDATE work_orders SET note = 'changed' WHERE work_order_id = 'WO-000003'")
    changed = landing.load(build_connector(spec, fast))
    assert (first.rows, same.landed, changed.rows) == (50, False, 50)
    assert [e["kind"] for e in landing.entries()] == ["snapshot", "snapshot"]


def test_text_in_a_numeric_column_starts_a_new_part_and_loses_nothing(tmp_path, landing, fast):
    db = make_db(tmp_path / "mms.sqlite", rows=1500)
    with sqlite3.connect(db) as conn:  # SQLite accepts text in an INTEGER column; the landing must keep it
        conn.execute("UPDATE work_orders SET crew_size = 'n/a', updated_at = '2026-10-31 00:00:00' "
                     "WHERE work_order_id = 'WO-001400'")  # last in cursor order: in the second chunk
    result = landing.load(build_connector(spec_for(db), fast))
    assert len(result.parts) == 2  # chunk 1 (1000 rows) typed BIGINT, chunk 2 needs text
    assert landed(landing, "pw_mms", "work_orders",
                  "SELECT count(*), max(_row_number), count(*) FILTER (crew_size = 'n/a') FROM batch") == [(1500, 1500, 1)]


def hold_exclusive_lock(db, seconds):
    conn = sqlite3.connect(db, check_same_thread=False)
    conn.execute("BEGIN EXCLUSIVE")
    release = threading.Timer(seconds, lambda: (conn.rollback(), conn.close()))
    release.start()
    return release


def test_a_locked_database_is_retried_until_the_lock_is_released(tmp_path, landing, fast):
    db = make_db(tmp_path / "mms.sqlite", rows=20)  # rollback-journal mode: a writer locks readers out
    patient = type(fast)(**{**fast.__dict__, "retry": RetryPolicy(attempts=6, initial_wait=0.1, max_wait=0.4)})
    release = hold_exclusive_lock(db, 0.3)
    started = time.monotonic()
    result = landing.load(build_connector(spec_for(db), patient))
    release.join()
    assert result.rows == 20 and time.monotonic() - started >= 0.25


def test_a_database_that_stays_locked_fails_clearly(tmp_path, landing, fast):
    db = make_db(tmp_path / "mms.sqlite", rows=20)
    release = hold_exclusive_lock(db, 3)
    try:
        with pytest.raises(SourceUnavailable) as failure:
            landing.load(build_connector(spec_for(db), fast))
    finally:
        release.cancel()
        release.function()
    message = str(failure.value)
    assert "pw_mms.work_orders" in message and str(db) in message
    assert "database is locked" in message and "after 3 attempt(s)" in message


def test_missing_table_or_file_is_reported_by_name(tmp_path, landing, fast):
    db = make_db(tmp_path / "mms.sqlite", rows=1)
    with pytest.raises(SourceError, match="no table 'wrk_orders'"):
        landing.load(build_connector(spec_for(db, table="wrk_orders"), fast))
    with pytest.raises(SourceError, match="database file .*nowhere.sqlite does not exist"):
        landing.load(build_connector(spec_for(tmp_path / "nowhere.sqlite"), fast))
    with pytest.raises(SourceError, match="cursor_field 'updated' is not a column"):
        landing.load(build_connector(spec_for(db, cursor="updated"), fast))
    assert not (tmp_path / "nowhere.sqlite").exists()  # read-only: a wrong path never creates a file


def test_a_sqlalchemy_url_from_the_environment_takes_the_same_path(tmp_path, landing, fast, monkeypatch):
    """Server databases (PostgreSQL) are configured the same way: a SQLAlchemy URL in the entry's env var."""
    from data_inventory import load_inventory
    from citystat.ingestion import source_spec

    db = make_db(tmp_path / "elsewhere.sqlite", rows=30)
    monkeypatch.setenv("CITYSTAT_PW_MMS_URL", f"sqlite:///{db}")
    monkeypatch.setenv("CITYSTAT_DATA_ROOTS", str(tmp_path))  # an env location must lie in a data root
    spec = source_spec(load_inventory().get("pw_mms", "work_orders"), tmp_path / "unused")
    assert spec.location == f"sqlite:///{db}" and spec.location_env == "CITYSTAT_PW_MMS_URL"
    assert landing.load(build_connector(spec, fast)).rows == 30
