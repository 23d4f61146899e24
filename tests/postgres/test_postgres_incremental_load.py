"""The landing loader copies only the batches not yet in PostgreSQL, on a real server with hand-built Parquet batches:
a second load appends the new file, a load with nothing new copies nothing, a batch with a new column reloads the
table whole, and a load that fails half way (an unreadable batch) leaves the previous table and record, after which
the next load completes. Expected rows are written by hand here, never read back through the loader."""
import datetime as dt
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from citystat.postgres_warehouse import load_landing


def _batch(landing: Path, name: str, **columns) -> Path:
    path = landing / "crm" / "cases" / f"{name}.parquet"
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(pa.table(columns), path)
    return path


def _rows(url: str, columns: str = "id, status") -> list[tuple]:
    import psycopg

    with psycopg.connect(url) as con:
        return con.execute(f"select {columns} from crm.cases order by id").fetchall()


def _recorded(url: str) -> list[str]:
    import psycopg

    with psycopg.connect(url) as con:
        return [Path(r[0]).name for r in con.execute(
            "select file from citystat_state.loaded_files where system = 'crm' and dataset = 'cases' order by file")]


@pytest.mark.timeout(120)
def test_only_new_batches_are_copied_and_a_failed_load_keeps_the_previous_table(tmp_path, postgres_url):
    landing = tmp_path / "landing"
    messages: list[str] = []
    first = _batch(landing, "b1", id=pa.array([1, 2], pa.int64()), status=["open", "closed"],
                   opened=[dt.datetime(2026, 1, 1, 8), dt.datetime(2026, 1, 2, 9)])

    assert load_landing(landing, postgres_url, progress=messages.append) == {"crm.cases": 2}
    assert _rows(postgres_url) == [(1, "open"), (2, "closed")]
    assert messages[-1] == "landed crm.cases in PostgreSQL: 2 rows (reloaded whole)"

    # a second batch: only its rows are copied; the first batch's rows stay once; types as before
    _batch(landing, "b2", id=pa.array([3], pa.int64()), status=["open"], opened=[dt.datetime(2026, 1, 3, 10)])
    assert load_landing(landing, postgres_url, progress=messages.append) == {"crm.cases": 1}
    assert messages[-1] == "landed crm.cases in PostgreSQL: 1 rows (1 new file appended)"
    assert _rows(postgres_url, "id, status, opened, filename") == [
        (1, "open", dt.datetime(2026, 1, 1, 8), str(first)), (2, "closed", dt.datetime(2026, 1, 2, 9), str(first)),
        (3, "open", dt.datetime(2026, 1, 3, 10), str(landing / "crm" / "cases" / "b2.parquet"))]
    assert _recorded(postgres_url) == ["b1.parquet", "b2.parquet"]

    # nothing new: nothing copied
    assert load_landing(landing, postgres_url, progress=messages.append) == {"crm.cases": 0}
    assert messages[-1] == "landed crm.cases in PostgreSQL: 0 rows (up to date)"

    # a batch that lacks a column gets NULL there; one that cannot be read fails the load, which changes nothing
    _batch(landing, "b3", id=pa.array([4], pa.int64()), status=["open"])
    broken = landing / "crm" / "cases" / "b4.parquet"
    broken.write_bytes(b"PAR1 not really parquet")
    with pytest.raises(Exception):
        load_landing(landing, postgres_url, progress=messages.append)
    assert [r[0] for r in _rows(postgres_url)] == [1, 2, 3]
    assert _recorded(postgres_url) == ["b1.parquet", "b2.parquet"]
    broken.unlink()
    assert load_landing(landing, postgres_url, progress=messages.append) == {"crm.cases": 1}
    assert _rows(postgres_url, "id, opened") == [(1, dt.datetime(2026, 1, 1, 8)), (2, dt.datetime(2026, 1, 2, 9)),
                                                 (3, dt.datetime(2026, 1, 3, 10)), (4, None)]

    # a batch with a new column: the table is reloaded whole, the new column NULL for the older batches
    _batch(landing, "b5", id=pa.array([5], pa.int64()), status=["closed"], priority=["high"])
    assert load_landing(landing, postgres_url, progress=messages.append) == {"crm.cases": 5}
    assert messages[-1] == "landed crm.cases in PostgreSQL: 5 rows (reloaded whole)"
    assert _rows(postgres_url, "id, status, priority") == [
        (1, "open", None), (2, "closed", None), (3, "open", None), (4, "open", None), (5, "closed", "high")]
    assert _recorded(postgres_url) == ["b1.parquet", "b2.parquet", "b3.parquet", "b5.parquet"]

    # a recorded batch removed from the landing (rewritten): reloaded whole, its rows gone
    first.unlink()
    assert load_landing(landing, postgres_url, progress=messages.append) == {"crm.cases": 3}
    assert [r[0] for r in _rows(postgres_url)] == [3, 4, 5]
