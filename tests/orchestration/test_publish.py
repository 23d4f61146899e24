"""The published snapshot: atomic swap, readers never blocked, never a half-written table."""
import subprocess
import sys
import textwrap

import duckdb
import pytest

from citystat.publish import publish_snapshot


def _make_work(path, n):
    con = duckdb.connect(str(path))
    con.execute("CREATE SCHEMA IF NOT EXISTS marts; CREATE SCHEMA IF NOT EXISTS staging")
    con.execute(f"CREATE OR REPLACE TABLE marts.fct_x AS SELECT range AS id FROM range({n})")
    con.execute("CREATE OR REPLACE VIEW marts.v_x AS SELECT count(*) AS n FROM marts.fct_x")
    con.execute("COMMENT ON TABLE marts.fct_x IS 'facts'")
    con.execute("COMMENT ON COLUMN marts.fct_x.id IS 'the id'")
    con.execute("CREATE OR REPLACE TABLE staging.secret AS SELECT 1 AS x")
    con.close()


def test_publish_copies_public_schemas_with_docs(tmp_path):
    work, snap = tmp_path / "work.duckdb", tmp_path / "citystat.duckdb"
    _make_work(work, 10)
    published = publish_snapshot(work, snap)
    assert {(t.schema, t.name, t.rows) for t in published} == {("marts", "fct_x", 10), ("marts", "v_x", 1)}
    con = duckdb.connect(str(snap), read_only=True)
    assert con.execute("SELECT n FROM marts.v_x").fetchone() == (10,)
    assert con.execute("SELECT count(*) FROM information_schema.schemata WHERE schema_name='staging'").fetchone() == (0,)
    assert con.execute("SELECT comment FROM duckdb_columns() WHERE table_name='fct_x'").fetchone() == ("the id",)
    assert list(tmp_path.glob(".*.tmp")) == []


def test_reader_in_other_process_is_never_blocked(tmp_path):
    """A second process holds the snapshot open and keeps querying while we publish three times."""
    work, snap = tmp_path / "work.duckdb", tmp_path / "citystat.duckdb"
    _make_work(work, 1000)
    publish_snapshot(work, snap)
    reader = subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(f"""
            import duckdb, sys, time
            # held open across every publish (ATTACH, so DuckDB's per-path instance cache doesn't share it)
            held = duckdb.connect()
            held.execute("ATTACH '{snap}' AS s (READ_ONLY)")
            held.execute("USE s")
            print("ready", flush=True)
            seen = set()
            deadline = time.time() + 60
            while time.time() < deadline:
                n = held.execute("SELECT count(*) FROM marts.fct_x").fetchone()[0]
                fresh = duckdb.connect({str(snap)!r}, read_only=True)
                m, v = fresh.execute("SELECT (SELECT count(*) FROM marts.fct_x), (SELECT n FROM marts.v_x)").fetchone()
                fresh.close()
                assert m == v, f"half-written snapshot: {{m}} rows vs view {{v}}"
                seen.add(m)
                if 4000 in seen:
                    break
            print(sorted(seen), n)
        """)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    assert reader.stdout.readline().strip() == "ready"
    for n in (2000, 3000, 4000):
        _make_work(work, n)
        publish_snapshot(work, snap)  # must not raise a lock error while the reader holds the file
    out, err = reader.communicate(timeout=90)
    assert reader.returncode == 0, err
    seen, held_count = out.rsplit("]", 1)
    assert "4000" in seen
    assert held_count.strip() == "1000"  # the held connection still reads its complete old version


def test_publish_missing_work_db_is_clear(tmp_path):
    with pytest.raises(FileNotFoundError, match="work.duckdb"):
        publish_snapshot(tmp_path / "work.duckdb", tmp_path / "s.duckdb")
