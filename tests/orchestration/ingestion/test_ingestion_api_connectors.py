"""Open311 and SODA connectors against the real demo servers on loopback, over a generated city."""
from __future__ import annotations

import datetime as dt
import sqlite3

import pytest

from demo_city.servers import serve_in_thread
from citystat.connectors import SourceError, SourceSpec, SourceUnavailable, build_connector
from citystat.landing import Landing

from .helpers import landed, snapshot_of


def requests_spec(url: str) -> SourceSpec:
    return SourceSpec("crm311", "service_requests", "open311", f"{url}/open311/v2", "requests.json",
                      cursor_field="updated_datetime", primary_key=("service_request_id",))


def contracts_spec(url: str) -> SourceSpec:
    return SourceSpec("proc_portal", "contracts", "soda", url, "ctrc-9p3m",
                      cursor_field=":updated_at", primary_key=("contract_id",))


def store_rows(path, sql, params=()):
    with sqlite3.connect(path) as conn:
        return conn.execute(sql, params).fetchall()


def test_open311_paging_lands_every_request_exactly_once(city, landing, fast):
    crm = city / "crm311" / "crm.sqlite"
    with serve_in_thread(city) as server:
        result = landing.load(build_connector(requests_spec(server.url), fast))

    expected = {r[0] for r in store_rows(crm, "SELECT service_request_id FROM requests")}
    assert len(expected) > 5 * fast.page_size  # enough rows for many pages
    ids = [r[0] for r in landed(landing, "crm311", "service_requests", "SELECT service_request_id FROM batch")]
    assert len(ids) == len(set(ids)) == result.rows
    assert set(ids) == expected
    # Metadata columns and native JSON types (coordinates stay numbers).
    (load_ids, rownums, cursors, lat_type) = landed(
        landing, "crm311", "service_requests",
        "SELECT count(DISTINCT _load_id), max(_row_number), count(_source_cursor), any_value(typeof(lat)) FROM batch",
    )[0]
    assert (load_ids, rownums, cursors, lat_type) == (1, len(expected), len(expected), "DOUBLE")
    assert result.cursor == store_rows(crm, "SELECT updated_datetime FROM requests ORDER BY julianday(updated_datetime) DESC LIMIT 1")[0][0]


def test_open311_incremental_lands_only_new_and_updated_rows_including_ties_at_the_cursor(city, landing, fast):
    crm = city / "crm311" / "crm.sqlite"
    with serve_in_thread(city) as server:
        spec = requests_spec(server.url)
        first = landing.load(build_connector(spec, fast))
        cursor = first.cursor
        # Later than anything already landed, whatever the generated city's last update was
        after_cursor = [(dt.datetime.fromisoformat(cursor) + dt.timedelta(minutes=m)).isoformat() for m in (10, 20)]

        with sqlite3.connect(crm) as conn:
            # A request updated later, and one arriving with exactly the cursor's timestamp (a tie that
            # a strict "> cursor" would lose), plus a brand-new one.
            updated_id = conn.execute("SELECT service_request_id FROM requests ORDER BY service_request_id LIMIT 1").fetchone()[0]
            conn.execute("UPDATE requests SET status = 'closed', updated_datetime = ? "
                         "WHERE service_request_id = ?", (after_cursor[0], updated_id))
            columns = [r[1] for r in conn.execute("PRAGMA table_info(requests)")]
            template = conn.execute("SELECT * FROM requests WHERE service_request_id = ?", (updated_id,)).fetchone()
            for new_id, stamp in (("SR-9999998", cursor), ("SR-9999999", after_cursor[1])):
                row = dict(zip(columns, template), service_request_id=new_id, updated_datetime=stamp)
                conn.execute(f"INSERT INTO requests ({','.join(columns)}) VALUES ({','.join('?' * len(columns))})",
                             [row[c] for c in columns])

        second = landing.load(build_connector(spec, fast))
        before = snapshot_of(landing.root)
        third = landing.load(build_connector(spec, fast))

    assert second.rows == 3
    second_ids = landed(landing, "crm311", "service_requests",
                        f"SELECT service_request_id, status FROM batch WHERE _load_id = '{second.load_id}' ORDER BY 1")
    assert second_ids == [(updated_id, "closed"), ("SR-9999998", template[columns.index("status")]), ("SR-9999999", template[columns.index("status")])]
    assert second.cursor == after_cursor[1]
    assert not third.landed and third.rows == 0
    assert snapshot_of(landing.root) == before  # a rerun with nothing new changes nothing


def test_soda_pages_with_limit_offset_and_lands_only_updates(city, landing, fast):
    portal = city / "procurement" / "portal.sqlite"
    small_pages = type(fast)(**{**fast.__dict__, "page_size": 7})
    with serve_in_thread(city) as server:
        spec = contracts_spec(server.url)
        first = landing.load(build_connector(spec, small_pages))
        expected = store_rows(portal, "SELECT contract_id FROM contracts")
        assert first.rows == len(expected) > 3 * 7
        rows = landed(landing, "proc_portal", "contracts", 'SELECT contract_id, ":id", ":updated_at" FROM batch')
        assert sorted(r[0] for r in rows) == sorted(r[0] for r in expected)
        assert all(r[1] and r[2] for r in rows)  # system fields landed

        with sqlite3.connect(portal) as conn:
            conn.execute("""UPDATE contracts SET status = 'completed', ":updated_at" = '2026-10-31T12:00:00-04:00'
                            WHERE contract_id = ?""", (expected[0][0],))
        second = landing.load(build_connector(spec, small_pages))
        third = landing.load(build_connector(spec, small_pages))

    assert second.rows == 1 and not third.landed
    assert landed(landing, "proc_portal", "contracts",
                  f"SELECT contract_id, status FROM batch WHERE _load_id = '{second.load_id}'") == [(expected[0][0], "completed")]


def test_snapshot_endpoint_lands_again_only_when_it_changed(city, landing, fast):
    spec_of = lambda url: SourceSpec("crm311", "services", "open311", f"{url}/open311/v2", "services.json")  # noqa: E731
    with serve_in_thread(city) as server:
        first = landing.load(build_connector(spec_of(server.url), fast))
        again = landing.load(build_connector(spec_of(server.url), fast))
        with sqlite3.connect(city / "crm311" / "crm.sqlite") as conn:
            conn.execute("UPDATE services SET description = description || ' (revised)' WHERE service_code = 'POTHOLE'")
        changed = landing.load(build_connector(spec_of(server.url), fast))
    assert first.rows >= 15 and not again.landed and changed.landed and changed.rows == first.rows


def test_transient_failures_are_retried_then_the_load_succeeds(city, landing, fast):
    with serve_in_thread(city, faults="open311=503x2,soda=500x2") as server:
        requests = landing.load(build_connector(requests_spec(server.url), fast))
        contracts = landing.load(build_connector(contracts_spec(server.url), fast))
        assert server.faults["open311"].times == 0 and server.faults["soda"].times == 0  # the faults were hit
    assert requests.rows > 0 and contracts.rows > 0


@pytest.mark.parametrize("fault, symptom", [("500", "HTTP 500"), ("sleep:3", "timed out")])
def test_a_source_that_stays_down_fails_clearly_after_retries_and_lands_nothing(city, landing, fast, fault, symptom):
    quick_timeout = type(fast)(**{**fast.__dict__, "http_timeout": 0.3})
    with serve_in_thread(city, faults=f"open311={fault}") as server:
        spec = requests_spec(server.url)
        with pytest.raises(SourceUnavailable) as failure:
            landing.load(build_connector(spec, quick_timeout))
    message = str(failure.value)
    assert "crm311.service_requests" in message
    assert f"{server.url}/open311/v2/requests.json" in message
    assert "after 3 attempt(s)" in message and symptom in message
    assert not landing.ledger_path.exists()
    assert list(landing.dataset_dir("crm311", "service_requests").glob("*.parquet")) == []
    assert [p.name for p in landing.dataset_dir("crm311", "service_requests").iterdir()] == [".lock"]


def test_an_unknown_cursor_column_is_reported_with_the_servers_message(city, landing, fast):
    with serve_in_thread(city) as server:
        spec = SourceSpec("proc_portal", "contracts", "soda", server.url, "ctrc-9p3m", cursor_field="no_such_column")
        with pytest.raises(SourceError) as failure:
            landing.load(build_connector(spec, fast))
    assert "proc_portal.contracts" in str(failure.value) and "HTTP 400" in str(failure.value)
    assert "no_such_column" in str(failure.value)
