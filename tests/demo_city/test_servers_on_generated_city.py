"""The demo servers over a city made by the real generator (scale 0.1): what connectors will see.

Answers are checked against the generated SQLite stores read directly, and `advance` while the
server runs must show up in the next request.
"""
from __future__ import annotations

import datetime as dt
import json
import sqlite3
from zoneinfo import ZoneInfo

import httpx
import pytest

from demo_city.generator import advance, generate
from demo_city.servers import serve_in_thread

AS_OF = dt.date(2026, 10, 31)
CITY_TZ = ZoneInfo("America/New_York")


@pytest.fixture(scope="module")
def city(tmp_path_factory):
    out = tmp_path_factory.mktemp("generated") / "city"
    generate(out, seed=42, scale=0.1, as_of=AS_OF, clean=False)
    return out


def _rows(path, sql):
    with sqlite3.connect(path) as conn:
        return conn.execute(sql).fetchall()


def _all_request_ids(client, **params):
    ids, page = [], 1
    while batch := client.get("/open311/v2/requests.json", params={**params, "page": page, "page_size": 1000}).json():
        ids.extend(r["service_request_id"] for r in batch)
        page += 1
    return ids


def test_open311_serves_the_generated_crm(city):
    crm = city / "crm311" / "crm.sqlite"
    with serve_in_thread(city) as server, httpx.Client(base_url=server.url) as client:
        services = client.get("/open311/v2/services.json").json()
        assert [s["service_code"] for s in services] == [r[0] for r in _rows(crm, "SELECT service_code FROM services ORDER BY 1")]
        assert len(services) >= 15

        ids = _all_request_ids(client)
        stored = [r[0] for r in _rows(crm, "SELECT service_request_id FROM requests ORDER BY updated_datetime, service_request_id")]
        assert ids == stored
        assert len(ids) == json.loads((city / "generation.json").read_text())["row_counts"]["crm311.service_requests"]

        # a fiscal year's window of updates, checked as instants against the store
        after, before = "2025-07-01T00:00:00-04:00", "2026-07-01T00:00:00-04:00"
        window = _all_request_ids(client, updated_after=after, updated_before=before)
        lo, hi = dt.datetime.fromisoformat(after), dt.datetime.fromisoformat(before)
        expected = [
            rid for rid, updated in _rows(crm, "SELECT service_request_id, updated_datetime FROM requests ORDER BY updated_datetime, service_request_id")
            if lo <= dt.datetime.fromisoformat(updated) < hi
        ]  # fmt: skip
        assert window == expected and 0 < len(window) < len(ids)

        closed_potholes = _all_request_ids(client, status="closed", service_code="POTHOLE")
        assert len(closed_potholes) == _rows(crm, "SELECT count(*) FROM requests WHERE status='closed' AND service_code='POTHOLE'")[0][0] > 0


def test_soda_serves_the_generated_portal(city):
    portal = city / "procurement" / "portal.sqlite"
    with serve_in_thread(city) as server, httpx.Client(base_url=server.url) as client:
        for resource, table in (("vndr-2x7k", "vendors"), ("ctrc-9p3m", "contracts"), ("mlst-4h8q", "contract_milestones")):
            ids, offset = [], 0
            while batch := client.get(f"/resource/{resource}.json", params={"$select": ":id", "$limit": 20, "$offset": offset}).json():
                ids.extend(r[":id"] for r in batch)
                offset += 20
            assert sorted(ids) == sorted(r[0] for r in _rows(portal, f'SELECT ":id" FROM {table}')), table
        brightline = client.get("/resource/ctrc-9p3m.json", params={"$where": "vendor_id = 'VND-0003' AND season_year IS NOT NULL"}).json()
        stored = _rows(portal, "SELECT count(*) FROM contracts WHERE vendor_id = 'VND-0003' AND season_year IS NOT NULL")[0][0]
        assert len(brightline) == stored > 0
        assert all(c["contract_type"] == "results_driven" for c in brightline)


def test_advance_while_serving_is_visible_at_once(city):
    crm = city / "crm311" / "crm.sqlite"
    cursor = f"{AS_OF + dt.timedelta(days=1)}T00:00:00"  # city local time
    with serve_in_thread(city) as server, httpx.Client(base_url=server.url) as client:
        before = _all_request_ids(client, updated_after=cursor)  # only injected future-dated rows, if any
        advance(city, days=3)
        after = _all_request_ids(client, updated_after=cursor)
    assert set(after) - set(before), "advance added no 311 activity visible over Open311"
    stored = _rows(crm, "SELECT service_request_id, updated_datetime FROM requests ORDER BY updated_datetime, service_request_id")
    lo = dt.datetime.fromisoformat(cursor).replace(tzinfo=CITY_TZ)
    assert after == [rid for rid, updated in stored if dt.datetime.fromisoformat(updated) >= lo]
