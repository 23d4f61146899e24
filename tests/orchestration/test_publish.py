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


def test_a_republish_rewrites_only_the_tables_whose_content_changed(tmp_path):
    """The new snapshot starts from the previous file: equal tables are kept, changed ones rewritten, gone ones dropped."""
    work, snap = tmp_path / "work.duckdb", tmp_path / "citystat.duckdb"
    _make_work(work, 100_000)
    con = duckdb.connect(str(work))
    con.execute("CREATE TABLE marts.dim_y AS SELECT range AS id, 'y' || range AS label FROM range(1000)")
    con.execute("CREATE SCHEMA metrics")
    con.execute("CREATE TABLE metrics.gone AS SELECT 1 AS x")
    con.close()
    first = {(t.schema, t.name): t for t in publish_snapshot(work, snap)}
    assert all(t.copied for t in first.values())
    sizes = []
    for day in range(1, 6):
        con = duckdb.connect(str(work))
        # a new day: the facts change (one row more), the dimension does not, and a table is dropped on day 1
        con.execute(f"CREATE OR REPLACE TABLE marts.fct_x AS SELECT range AS id FROM range({100_000 + day})")
        con.execute("COMMENT ON TABLE marts.fct_x IS 'facts'")
        con.execute("DROP TABLE IF EXISTS metrics.gone")
        con.close()
        published = {(t.schema, t.name): t for t in publish_snapshot(work, snap)}
        assert {key for key, t in published.items() if t.copied} == {("marts", "fct_x"), ("marts", "v_x")}
        assert published[("marts", "dim_y")].rows == 1000 and published[("marts", "fct_x")].rows == 100_000 + day
        sizes.append(snap.stat().st_size)
    with duckdb.connect(str(snap), read_only=True) as reader:
        assert reader.execute("SELECT count(*), max(id) FROM marts.fct_x").fetchall() == [(100_005, 100_004)]
        assert reader.execute("SELECT count(*) FROM marts.dim_y WHERE label = 'y' || id").fetchall() == [(1000,)]
        assert reader.execute("SELECT comment FROM duckdb_tables() WHERE table_name = 'fct_x'").fetchall() == [("facts",)]
        assert reader.execute("SELECT count(*) FROM duckdb_tables() WHERE table_name = 'gone'").fetchall() == [(0,)]
    assert sizes[-1] <= 2 * sizes[0], sizes  # freed blocks are reused: the file does not grow day after day
    assert list(tmp_path.glob(".*.tmp")) == []
