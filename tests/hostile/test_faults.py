"""Fault suite with real processes: a misbehaving SODA portal (``fault_server.py``, its own process on
loopback), a SQLite file locked by another process, a landing process killed with SIGKILL.

Each fault fails only its own source, within its deadline, with a message naming the URL (or database),
the attempts and the time spent, and commits nothing partial; a healthy source in the same round lands
all its rows; once the fault is gone a rerun lands every row (rows lost = 0). Outcomes and timings go
to the hostile table (``hostile_table.py``).
"""
from __future__ import annotations

import json
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import textwrap
import time
import uuid
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from citystat.connectors import ConnectorOptions, RetryPolicy, SourceError, SourceSpec, SourceUnavailable, build_connector
from citystat.landing import Landing
from hostile_table import record

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
ROWS = 7  # every fault_server resource serves 7 rows

# deadlines small enough for a test, the same code paths as production's 60 s / 600 s
OPTIONS = ConnectorOptions(retry=RetryPolicy(attempts=3, initial_wait=0.05, max_wait=0.2), http_timeout=2.0,
                           request_deadline=2.0, asset_deadline=6.0, page_size=3, sqlite_busy_timeout=0.2)
SLACK = 3.0  # seconds a failure may take beyond its deadline (thread hand-off, a loaded CI machine)


@pytest.fixture(scope="module")
def server():
    """fault_server.py in its own process; yields its base URL."""
    proc = subprocess.Popen([sys.executable, str(HERE / "fault_server.py")], stdout=subprocess.PIPE, text=True)
    try:
        port = int(proc.stdout.readline())
        yield f"http://127.0.0.1:{port}"
    finally:
        proc.kill()
        proc.wait(10)


def soda(base: str, mode: str, dataset: str = "api") -> SourceSpec:
    return SourceSpec("hostile", dataset, "soda", f"{base}/{mode}/{uuid.uuid4().hex[:8]}", "abcd-1234")


def good_drop(tmp: Path) -> SourceSpec:
    folder = tmp / "good_drop"
    folder.mkdir(exist_ok=True)
    (folder / "good.csv").write_text("id,name\n" + "".join(f"{i},n{i}\n" for i in range(5)))
    return SourceSpec("hostile", "healthy", "csv_drop", str(folder), "*.csv", fields=("id", "name"))


def land_round(landing: Landing, specs: list[SourceSpec], options: ConnectorOptions = OPTIONS) -> dict:
    """Load each source in turn, as independent raw assets do: one's failure is recorded, the others still run."""
    outcomes = {}
    for spec in specs:
        started = time.monotonic()
        try:
            result = landing.load(build_connector(spec, options))
            outcomes[spec.dataset_id] = ("landed", result, time.monotonic() - started)
        except (SourceError, SourceUnavailable) as exc:
            outcomes[spec.dataset_id] = ("failed", exc, time.monotonic() - started)
    return outcomes


def landed_rows(landing: Landing, dataset: str) -> int:
    return sum(pq.read_metadata(p).num_rows for p in landing.dataset_dir("hostile", dataset).glob("*.parquet"))


def rerun_recovers(landing: Landing, base: str) -> int:
    """Once the source is healthy again, the next load lands every row and the source count agrees."""
    result = landing.load(build_connector(soda(base, "ok"), OPTIONS))
    assert result.rows == result.source_rows == ROWS, (result.rows, result.source_rows)
    return landed_rows(landing, "api")


# the faults: (class, mode, the deadline the failure must beat, a phrase of the message) -----------------

FAILING = [
    ("http_refused", None, OPTIONS.asset_deadline, "cannot reach the server"),
    ("http_hang", "hang", OPTIONS.asset_deadline, "request deadline"),
    ("http_drip_byte_every_10s", "drip-10", OPTIONS.asset_deadline, "request deadline"),
    ("http_drip_byte_every_0.3s", "drip-0.3", OPTIONS.asset_deadline, "request deadline"),
    ("http_500_forever", "e500-1000", OPTIONS.asset_deadline, "HTTP 500"),
    ("http_truncated_json_page", "truncated", OPTIONS.asset_deadline, "did not return JSON"),
    ("http_html_instead_of_json", "html", OPTIONS.asset_deadline, "did not return JSON"),
    ("http_json_object_not_array", "object", OPTIONS.asset_deadline, "JSON array of objects"),
    ("http_short_page_vs_count", "short", OPTIONS.asset_deadline, "counts 7 rows (count(*)) but only 5"),
    ("http_404_not_found", "notfound", OPTIONS.asset_deadline, "HTTP 404"),
]


def refused_base() -> str:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}"  # closed again: connections are refused


@pytest.mark.timeout(60)
@pytest.mark.parametrize("cls,mode,deadline,phrase", FAILING, ids=[f[0] for f in FAILING])
def test_a_failing_http_source_fails_alone_within_its_deadline_and_loses_nothing(server, tmp_path, cls, mode, deadline, phrase):
    landing = Landing(tmp_path / "landing")
    bad = soda(refused_base(), "ok") if mode is None else soda(server, mode)
    outcomes = land_round(landing, [bad, good_drop(tmp_path)])

    state, error, seconds = outcomes["api"]
    assert state == "failed", outcomes
    message = str(error)
    assert phrase in message, message
    assert bad.location in message, message  # the URL
    assert seconds < deadline + SLACK, f"{cls} took {seconds:.1f} s, deadline {deadline} s: {message}"
    if isinstance(error, SourceUnavailable):
        assert f"after {error.attempts} attempt(s)" in message and " s elapsed)" in message, message
    # nothing partial was committed for the failing source; the healthy one landed all its rows
    assert landing.entries("hostile", "api") == [] and landed_rows(landing, "api") == 0
    assert outcomes["healthy"][0] == "landed" and outcomes["healthy"][1].rows == outcomes["healthy"][1].source_rows == 5
    assert not list(landing.dataset_dir("hostile", "api").glob(".tmp-*"))

    recovered = rerun_recovers(landing, server)
    attempts = f"{error.attempts} attempt(s)" if isinstance(error, SourceUnavailable) else "not retried"
    record(cls, "http", f"failed alone ({attempts})", ROWS, recovered, message.split(": ", 1)[-1], seconds)
    assert recovered == ROWS


RECOVERING = [
    ("http_500_then_recover", "e500-2", 3),
    ("http_429_then_recover", "e429-2", 3),
    ("http_connection_reset_mid_body", "reset", 3),
    ("http_no_count_offered", "nocount", None),
    ("http_nested_json_values", "nested", 3),
]


@pytest.mark.timeout(60)
@pytest.mark.parametrize("cls,mode,source_count", RECOVERING, ids=[r[0] for r in RECOVERING])
def test_a_flaky_or_odd_http_source_lands_every_row(server, tmp_path, cls, mode, source_count):
    landing = Landing(tmp_path / "landing")
    started = time.monotonic()
    result = landing.load(build_connector(soda(server, mode), OPTIONS))
    seconds = time.monotonic() - started
    assert result.rows == ROWS == landed_rows(landing, "api")
    (entry,) = landing.entries("hostile", "api")
    if source_count is None:  # the portal offers no count(*): landed without one, said so in the log
        assert "source_rows" not in entry
    else:
        assert entry["source_rows"] == ROWS
    if mode == "nested":
        table = pq.read_table(result.parts[0]).to_pylist()
        assert json.loads(table[0]["location"])["type"] == "Point"
    record(cls, "http", "landed" + (" (no source count)" if source_count is None else " (source = landed)"),
           ROWS, result.rows, "", seconds)
    assert seconds < OPTIONS.asset_deadline


@pytest.mark.timeout(60)
def test_a_drip_server_cannot_hold_an_asset_past_its_deadline_even_with_long_socket_timeouts(server, tmp_path):
    """httpx's timeouts are per socket read: a byte every 0.3 s never trips a 30 s timeout. The total deadline does."""
    options = ConnectorOptions(retry=RetryPolicy(attempts=4, initial_wait=0.05, max_wait=0.1), http_timeout=30.0,
                               request_deadline=1.5, asset_deadline=4.0, page_size=3)
    landing = Landing(tmp_path / "landing")
    started = time.monotonic()
    with pytest.raises(SourceUnavailable) as failure:
        landing.load(build_connector(soda(server, "drip-0.3"), options))
    seconds = time.monotonic() - started
    assert seconds < options.asset_deadline + SLACK, seconds
    assert "request deadline" in str(failure.value) and "attempt(s)" in str(failure.value)


# SQLite locked by another process ------------------------------------------------------------------------

@pytest.mark.timeout(60)
def test_a_locked_sqlite_source_fails_alone_within_its_deadline_then_lands_everything(tmp_path):
    db = tmp_path / "permits.sqlite"
    con = sqlite3.connect(db)
    con.execute("CREATE TABLE permits (permit_id TEXT PRIMARY KEY, status TEXT)")
    con.executemany("INSERT INTO permits VALUES (?, ?)", [(f"P-{i}", "issued") for i in range(ROWS)])
    con.commit()
    con.close()
    locker = subprocess.Popen([sys.executable, "-c", textwrap.dedent(f"""
        import sqlite3, sys, time
        con = sqlite3.connect({str(db)!r}, isolation_level=None)
        con.execute("BEGIN EXCLUSIVE")
        print("locked", flush=True)
        time.sleep(120)
    """)], stdout=subprocess.PIPE, text=True)
    try:
        assert locker.stdout.readline().strip() == "locked"
        spec = SourceSpec("hostile", "permits", "sqlite", str(db), "permits")
        landing = Landing(tmp_path / "landing")
        outcomes = land_round(landing, [spec, good_drop(tmp_path)])
        state, error, seconds = outcomes["permits"]
        assert state == "failed" and isinstance(error, SourceUnavailable), outcomes
        assert "database is locked" in str(error) and str(db) in str(error) and "3 attempt(s)" in str(error)
        deadline = OPTIONS.retry.attempts * (OPTIONS.sqlite_busy_timeout + OPTIONS.retry.max_wait)
        assert seconds < deadline + SLACK, seconds
        assert outcomes["healthy"][0] == "landed"
        assert landing.entries("hostile", "permits") == []
    finally:
        locker.kill()
        locker.wait(10)
    again = landing.load(build_connector(spec, OPTIONS))
    assert again.rows == ROWS
    record("sqlite_locked_by_another_process", "db", "failed alone (3 attempt(s))", ROWS, again.rows,
           str(error).split(": ", 1)[-1], seconds)


@pytest.mark.timeout(60)
def test_a_sqlite_query_that_never_ends_fails_alone_within_the_asset_deadline(tmp_path):
    """A database that stops answering (here: a view whose query runs for hours) is interrupted at the asset
    deadline and fails that dataset alone, naming the database, the attempts and the time spent; without a
    deadline the count would run on and the load would land its 0 rows hours later."""
    db = tmp_path / "cad.sqlite"
    with sqlite3.connect(db) as con:
        con.execute("CREATE VIEW incidents AS WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n "
                    "WHERE x < 10000000000) SELECT x AS incident_id FROM n WHERE x = 0")
    spec = SourceSpec("hostile", "incidents", "sqlite", str(db), "incidents")
    landing = Landing(tmp_path / "landing")
    outcomes = land_round(landing, [spec, good_drop(tmp_path)])
    state, error, seconds = outcomes["incidents"]
    assert state == "failed" and isinstance(error, SourceUnavailable), outcomes
    message = str(error)
    assert str(db) in message and "1 attempt(s)" in message and "s elapsed" in message, message
    assert f"opening the read (count and query) did not finish within its {OPTIONS.asset_deadline:.3g} s deadline" \
        in message, message
    assert seconds < OPTIONS.asset_deadline + SLACK, seconds
    assert outcomes["healthy"][0] == "landed" and landing.entries("hostile", "incidents") == []
    record("sqlite_query_never_ends", "db", "failed alone at the asset deadline", 0, 0,
           message.split(": ", 1)[-1], seconds)


# SIGKILL during landing, then a rerun ------------------------------------------------------------------

KILLED_LOADER = """
import sys, time
from citystat.connectors import SourceSpec, build_connector
from citystat.landing import Landing

spec = SourceSpec("hostile", "killed", "csv_drop", sys.argv[1], "*.csv", fields=("id", "name"))
connector = build_connector(spec)
extract = connector.extract

def slow(state):
    for n, chunk in enumerate(extract(state), 1):
        yield chunk
        print(f"chunk {n}", flush=True)
        time.sleep(0.5)

connector.extract = slow
Landing(sys.argv[2]).load(connector)
print("committed", flush=True)
"""


@pytest.mark.timeout(90)
def test_sigkill_during_landing_commits_nothing_and_the_rerun_lands_every_row(tmp_path):
    drops = tmp_path / "drops"
    drops.mkdir()
    files = 6
    for i in range(files):
        (drops / f"export_{i}.csv").write_text("id,name\n" + "".join(f"{i}-{j},n\n" for j in range(10)))
    root = tmp_path / "landing"
    proc = subprocess.Popen([sys.executable, "-c", KILLED_LOADER, str(drops), str(root)], cwd=ROOT,
                            stdout=subprocess.PIPE, text=True, env={**os.environ, "PYTHONPATH": str(ROOT)})
    try:
        assert proc.stdout.readline().strip() == "chunk 1"
        assert proc.stdout.readline().strip() == "chunk 2"
        os.kill(proc.pid, signal.SIGKILL)  # mid-batch: two files written to the temporary part
    finally:
        proc.wait(10)
    assert proc.returncode == -signal.SIGKILL
    landing = Landing(root)
    assert landing.entries() == []  # the ledger line is the commit: none was written
    assert list(landing.dataset_dir("hostile", "killed").glob(".tmp-*"))  # the killed load's leftovers

    started = time.monotonic()
    spec = SourceSpec("hostile", "killed", "csv_drop", str(drops), "*.csv", fields=("id", "name"))
    result = landing.load(build_connector(spec))
    seconds = time.monotonic() - started
    directory = landing.dataset_dir("hostile", "killed")
    assert not list(directory.glob(".tmp-*"))  # tidied under the dataset lock
    assert result.rows == result.source_rows == files * 10 == landed_rows(landing, "killed")
    assert len(landing.entries()) == 1 and len(result.files) == files
    assert landing.load(build_connector(spec)).rows == 0  # a second rerun lands nothing twice
    record("sigkill_during_landing_then_rerun", "proc", "nothing committed; rerun lands all", files * 10,
           result.rows, "", seconds)


@pytest.mark.timeout(60)
def test_three_datasets_of_one_hanging_portal_cost_one_deadline_not_three(server, tmp_path):
    """The issue's "4 x 30 s per asset, one asset after another": once a portal gave no answer in time, the
    next datasets of the same portal in the run fail at once, naming the first failure."""
    base = f"{server}/hang/{uuid.uuid4().hex[:8]}"
    specs = [SourceSpec("hostile", name, "soda", base, f"res{i}-abcd") for i, name in enumerate(("one", "two", "three"))]
    landing = Landing(tmp_path / "landing")
    outcomes = land_round(landing, [*specs, good_drop(tmp_path)])
    first, *rest = (outcomes[s.dataset_id] for s in specs)
    assert first[0] == "failed" and first[2] < OPTIONS.asset_deadline + SLACK
    for state, error, seconds in rest:
        assert state == "failed" and seconds < 1.0 and "not attempted" in str(error) and base in str(error), error
    assert outcomes["healthy"][0] == "landed"
    total = sum(o[2] for o in (first, *rest))
    assert total < OPTIONS.asset_deadline + 2 * SLACK
    # the portal is back (another base URL: the demo of a restarted server): every dataset lands all its rows
    recovered = 0
    for spec in specs:
        healthy = SourceSpec(spec.system_id, spec.dataset_id, "soda", f"{server}/ok/{uuid.uuid4().hex[:8]}",
                             spec.source_object)
        result = landing.load(build_connector(healthy, OPTIONS))
        assert result.rows == result.source_rows == ROWS
        recovered += result.rows
    record("http_portal_hangs_for_three_datasets", "http", "1st fails at deadline, next 2 at once", 3 * ROWS,
           recovered, f"total {total:.1f} s for three datasets", total)


@pytest.mark.timeout(60)
@pytest.mark.parametrize("mode", ["ok", "short"])
def test_incremental_soda_loads_reconcile_against_the_portals_count(server, tmp_path, mode):
    """Incremental loads ask count(*) with the same $where: every distinct row must arrive (a short page is
    refused, nothing committed); a rerun that re-reads the boundary rows lands nothing and passes."""
    base = f"{server}/{mode}/{uuid.uuid4().hex[:8]}"
    spec_ = SourceSpec("hostile", "api", "soda", base, "abcd-1234", cursor_field=":updated_at", primary_key=(":id",))
    landing = Landing(tmp_path / "landing")
    if mode == "short":
        with pytest.raises(SourceError) as failure:
            landing.load(build_connector(spec_, OPTIONS))
        assert "counts 7 rows (count(*))" in str(failure.value) and landing.entries() == []
        recovered = rerun_recovers(landing, server)
        record("http_incremental_short_page_vs_count", "http", "failed alone (not retried)", ROWS, recovered,
               str(failure.value).split(": ", 1)[-1])
        return
    first = landing.load(build_connector(spec_, OPTIONS))
    assert first.rows == ROWS and first.cursor == "2026-10-03T00:00:00.000"
    again = landing.load(build_connector(spec_, OPTIONS))  # count(*) >= mark: 2 boundary rows, already landed
    assert not again.landed and again.rows == 0
    record("http_incremental_rerun_boundary_rows", "http", "landed once; rerun lands 0", ROWS, first.rows)
