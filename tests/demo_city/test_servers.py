"""The demo city's HTTP servers (Open311 + SODA), run for real with uvicorn on loopback and hit with httpx.

A small city is written here with the contract's schemas (a few hundred rows, timestamps on both
sides of the DST changes, ties on updated_datetime, nulls), so expected answers can be computed
in Python from the very rows the server reads.
"""
from __future__ import annotations

import datetime as dt
import os
import random
import socket
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx
import pytest

from demo_city.servers import Fault, build_app, serve_in_thread
from demo_city.servers.faults import parse_faults

CITY_TZ = ZoneInfo("America/New_York")
SERVICES = [
    ("POTHOLE", "Pothole", "pw", 2), ("STREETLIGHT", "Streetlight out", "pw", 10), ("GRAFFITI", "Graffiti", "parks", 7),
    ("MISSED_TRASH", "Missed trash pickup", "san", 2), ("RODENT", "Rodent sighting", "hlth", 5),
]  # fmt: skip
REQUEST_COLUMNS = [
    "service_request_id", "status", "status_notes", "service_name", "service_code", "description", "agency_responsible",
    "service_notice", "requested_datetime", "updated_datetime", "expected_datetime", "closed_datetime", "address",
    "address_id", "zipcode", "lat", "long", "media_url", "first_name", "last_name", "phone", "email",
]  # fmt: skip
N_REQUESTS, N_VENDORS, N_CONTRACTS, N_MILESTONES = 420, 40, 130, 390


def _stamp(local: dt.datetime) -> str:
    """Local wall time with the offset in force then, as the contract stores it."""
    return local.replace(tzinfo=CITY_TZ).isoformat()


def _instant(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text)


def write_small_city(root: Path, seed: int = 7) -> dict[str, list[dict]]:
    """crm311/crm.sqlite and procurement/portal.sqlite with the contract's schemas; returns the rows."""
    rng = random.Random(seed)
    (root / "crm311").mkdir(parents=True)
    (root / "procurement").mkdir(parents=True)

    crm = sqlite3.connect(root / "crm311" / "crm.sqlite")
    crm.execute("PRAGMA journal_mode=WAL")
    crm.execute(
        'CREATE TABLE services(service_code TEXT PRIMARY KEY, service_name, description, metadata INTEGER, type TEXT, keywords, "group", '
        "agency_responsible TEXT, sla_days REAL)"
    )
    crm.execute(f"CREATE TABLE requests({', '.join(REQUEST_COLUMNS)}, PRIMARY KEY (service_request_id))")
    crm.execute("CREATE INDEX requests_updated ON requests(updated_datetime)")
    crm.execute("CREATE INDEX requests_requested ON requests(requested_datetime)")
    crm.execute("CREATE TABLE request_updates(service_request_id, updated_datetime, status, status_notes)")
    for code, name, dept, sla in SERVICES:
        crm.execute(
            "INSERT INTO services VALUES (?,?,?,?,?,?,?,?,?)",
            (code, name, f"Report a {name.lower()}", int(code == "POTHOLE"), "realtime", name.lower(), "streets", dept, sla),
        )
    requests = []
    start = dt.datetime(2024, 1, 1)
    for i in range(N_REQUESTS):
        code, name, dept, sla = rng.choice(SERVICES)
        requested = start + dt.timedelta(minutes=rng.randrange(0, 365 * 24 * 60))
        # whole hours, so many requests share an updated_datetime and the id must break the tie
        updated = (requested + dt.timedelta(hours=rng.randrange(1, 200))).replace(minute=0, second=0)
        closed = rng.random() < 0.6
        row = {
            "service_request_id": f"SR-{i:07d}", "status": "closed" if closed else "open", "status_notes": None,
            "service_name": name, "service_code": code, "description": f"{name} near {i} Main St", "agency_responsible": dept,
            "service_notice": None, "requested_datetime": _stamp(requested), "updated_datetime": _stamp(updated),
            "expected_datetime": _stamp(requested + dt.timedelta(days=sla)), "closed_datetime": _stamp(updated) if closed else None,
            "address": f"{i} Main St", "address_id": f"ADDR-{i % 90:05d}", "zipcode": "30301", "lat": 33.7 + i / 1e4,
            "long": -84.3 - i / 1e4, "media_url": None, "first_name": "Pat", "last_name": f"Caller{i}", "phone": "555-0100",
            "email": f"caller{i}@example.org",
        }  # fmt: skip
        requests.append(row)
    stored = rng.sample(requests, len(requests))  # storage order unlike id order: the server must sort, not trust rowids
    crm.executemany(f"INSERT INTO requests VALUES ({', '.join('?' * len(REQUEST_COLUMNS))})", [tuple(r.values()) for r in stored])
    crm.commit()
    crm.close()

    portal = sqlite3.connect(root / "procurement" / "portal.sqlite")
    portal.execute("PRAGMA journal_mode=WAL")
    portal.execute('CREATE TABLE vendors(":id" TEXT, ":updated_at" TEXT, vendor_id, vendor_name, address, contact_name, contact_email, status, registered_date)')
    portal.execute(
        'CREATE TABLE contracts(":id" TEXT, ":updated_at" TEXT, contract_id, vendor_id, title, department_code, program_code, contract_type, '
        "season_year INTEGER, region TEXT, start_date, end_date, total_value REAL, base_payment REAL, performance_pool REAL, "
        "penalty_per_day_late REAL, penalty_per_incident REAL, warranty_months INTEGER, planned_miles REAL, status)"
    )
    portal.execute(
        'CREATE TABLE contract_milestones(":id" TEXT, ":updated_at" TEXT, milestone_id, contract_id, milestone_name, due_date, '
        "target_share REAL, weight REAL, metric TEXT)"
    )
    names = ["Brightline Paving", "O'Hara & Sons", "Acme 100% Supplies", "River_City Tree Care", "Summit Asphalt"]
    vendors = []
    for i in range(N_VENDORS):
        updated = start + dt.timedelta(hours=rng.randrange(0, 365 * 24))
        vendors.append({
            ":id": f"row-v{i:04d}", ":updated_at": _stamp(updated), "vendor_id": f"VND-{i:04d}",
            "vendor_name": f"{names[i % len(names)]} {i}", "address": f"{i} Industrial Way",
            "contact_name": None if i % 7 == 0 else f"Contact {i}", "contact_email": f"sales{i}@vendor.example",
            "status": "debarred" if i % 9 == 0 else "active", "registered_date": f"2019-0{1 + i % 9}-15",
        })  # fmt: skip
    contracts = []
    for i in range(N_CONTRACTS):
        paving = i % 4 == 0
        value = float(rng.choice([250_000, 1_000_000, 2_750_000.5, 8_000_000]))
        contracts.append({
            ":id": f"row-c{i:04d}", ":updated_at": _stamp(start + dt.timedelta(hours=rng.randrange(0, 365 * 24))),
            "contract_id": f"CTR-{i:04d}", "vendor_id": f"VND-{i % N_VENDORS:04d}", "title": f"{'Resurfacing' if paving else 'Services'} {i}",
            "department_code": "pw" if paving else rng.choice(["parks", "san", "it"]), "program_code": "pw_street_maint",
            "contract_type": "results_driven" if paving else rng.choice(["fixed_price", "time_materials"]),
            "season_year": 2024 if paving else None, "region": ["north", "central", "south"][i % 3] if paving else None,
            "start_date": "2024-04-01", "end_date": "2024-11-30", "total_value": value, "base_payment": value * 0.8,
            "performance_pool": value * 0.2, "penalty_per_day_late": 500.0, "penalty_per_incident": 250.0,
            "warranty_months": 24, "planned_miles": 12.5 if paving else None, "status": rng.choice(["active", "completed", "withdrawn"]),
        })  # fmt: skip
    milestones = [
        {
            ":id": f"row-m{i:04d}", ":updated_at": _stamp(start + dt.timedelta(hours=i)), "milestone_id": f"MS-{i:04d}",
            "contract_id": f"CTR-{i % N_CONTRACTS:04d}", "milestone_name": f"Benchmark {i % 3 + 1}", "due_date": "2024-07-01",
            "target_share": (i % 3 + 1) / 3, "weight": 1 / 3, "metric": ["progression", "quality", "parking", "environmental"][i % 4],
        }  # fmt: skip
        for i in range(N_MILESTONES)
    ]
    for table, rows in (("vendors", vendors), ("contracts", contracts), ("contract_milestones", milestones)):
        stored = rng.sample(rows, len(rows))
        portal.executemany(f"INSERT INTO {table} VALUES ({', '.join('?' * len(rows[0]))})", [tuple(r.values()) for r in stored])
    portal.commit()
    portal.close()
    return {"requests": requests, "vendors": vendors, "contracts": contracts, "contract_milestones": milestones}


@pytest.fixture(scope="module")
def city(tmp_path_factory):
    root = tmp_path_factory.mktemp("city")
    return root, write_small_city(root)


@pytest.fixture(scope="module")
def server(city):
    with serve_in_thread(city[0]) as running:
        yield running


@pytest.fixture(scope="module")
def client(server):
    with httpx.Client(base_url=server.url, timeout=10) as c:
        yield c


def _ordered_ids(rows):
    return [r["service_request_id"] for r in sorted(rows, key=lambda r: (r["updated_datetime"], r["service_request_id"]))]


def _all_pages(client, params, page_size):
    ids, page = [], 1
    while True:
        response = client.get("/open311/v2/requests.json", params={**params, "page": page, "page_size": page_size})
        assert response.status_code == 200, response.text
        batch = response.json()
        assert len(batch) <= page_size
        if not batch:
            return ids
        ids.extend(r["service_request_id"] for r in batch)
        page += 1


# --- Open311 -------------------------------------------------------------------------------------


def test_health(client):
    assert client.get("/health").json() == {"status": "ok"}


def test_services_have_georeport_fields(client):
    services = client.get("/open311/v2/services.json").json()
    assert [s["service_code"] for s in services] == sorted(code for code, *_ in SERVICES)
    assert set(services[0]) == {"service_code", "service_name", "description", "metadata", "type", "keywords", "group", "agency_responsible", "sla_days"}
    assert {s["service_code"]: s["metadata"] for s in services}["POTHOLE"] is True
    assert all(s["metadata"] in (True, False) for s in services)


def test_request_pages_are_disjoint_and_cover_every_row_in_stable_order(city, client):
    rows = city[1]["requests"]
    ids = _all_pages(client, {}, page_size=37)
    assert ids == _ordered_ids(rows)  # every row exactly once, in updated_datetime, id order
    assert len(set(ids)) == N_REQUESTS
    assert len(client.get("/open311/v2/requests.json").json()) == 100  # default page size
    assert len(client.get("/open311/v2/requests.json", params={"page_size": 1000}).json()) == N_REQUESTS


def test_requests_carry_every_contract_field_including_caller_contact(city, client):
    first = client.get("/open311/v2/requests.json", params={"page_size": 1}).json()[0]
    assert list(first) == REQUEST_COLUMNS
    expected = next(r for r in city[1]["requests"] if r["service_request_id"] == first["service_request_id"])
    assert first == expected


@pytest.mark.parametrize(
    "start, end",
    [
        ("2024-03-10T01:00:00-05:00", "2024-03-20T12:00:00-04:00"),  # spans the spring DST change
        ("2024-10-30T00:00:00Z", "2024-11-05T23:59:59Z"),  # UTC, spans the autumn change
        ("2024-06-01", "2024-06-15T18:30:00"),  # no offset: city local time
    ],
)
def test_start_and_end_date_filter_requested_datetime_inclusively(city, client, start, end):
    lo, hi = (_instant(v) if _instant(v).tzinfo else _instant(v).replace(tzinfo=CITY_TZ) for v in (start, end))
    expected = [r for r in city[1]["requests"] if lo <= _instant(r["requested_datetime"]) <= hi]
    assert 0 < len(expected) < N_REQUESTS
    assert _all_pages(client, {"start_date": start, "end_date": end}, page_size=50) == _ordered_ids(expected)


def test_dates_compare_as_instants_to_the_second(city, client):
    row = city[1]["requests"][5]
    utc = _instant(row["requested_datetime"]).astimezone(dt.timezone.utc)

    def ids(start, end):
        params = {"start_date": start.isoformat(), "end_date": end.isoformat(), "page_size": 1000}
        return [r["service_request_id"] for r in client.get("/open311/v2/requests.json", params=params).json()]

    assert row["service_request_id"] in ids(utc, utc)  # both ends inclusive, same instant in another offset
    second = dt.timedelta(seconds=1)
    assert row["service_request_id"] not in ids(utc + second, utc + 2 * second)
    assert row["service_request_id"] not in ids(utc - 2 * second, utc - second)


def test_updated_windows_are_half_open_and_partition_the_rows(city, client):
    rows = city[1]["requests"]
    cuts = ["2024-01-01T00:00:00-05:00", "2024-04-01T00:00:00-04:00", "2024-08-15T09:00:00-04:00", "2025-02-01T00:00:00-05:00"]
    seen = []
    for after, before in zip(cuts, cuts[1:]):
        window = _all_pages(client, {"updated_after": after, "updated_before": before}, page_size=100)
        expected = [r for r in rows if _instant(after) <= _instant(r["updated_datetime"]) < _instant(before)]
        assert window == _ordered_ids(expected)
        seen.extend(window)
    assert sorted(seen) == sorted(r["service_request_id"] for r in rows)  # no overlap, no gap
    # an exact updated_datetime as updated_after includes that row (clients resume from their cursor)
    row = rows[11]
    resumed = _all_pages(client, {"updated_after": row["updated_datetime"]}, page_size=1000)
    assert row["service_request_id"] in resumed


def test_status_and_service_code_filters(city, client):
    rows = city[1]["requests"]
    open_ids = _all_pages(client, {"status": "open"}, 1000)
    assert open_ids == _ordered_ids([r for r in rows if r["status"] == "open"])
    both = _all_pages(client, {"service_code": "POTHOLE,RODENT", "status": "closed"}, 1000)
    expected = [r for r in rows if r["service_code"] in ("POTHOLE", "RODENT") and r["status"] == "closed"]
    assert both == _ordered_ids(expected) and expected
    assert _all_pages(client, {"status": "open,closed"}, 1000) == _ordered_ids(rows)


def test_single_request_and_unknown_id(city, client):
    row = city[1]["requests"][42]
    assert client.get(f"/open311/v2/requests/{row['service_request_id']}.json").json() == [row]
    missing = client.get("/open311/v2/requests/SR-9999999.json")
    assert missing.status_code == 404
    assert missing.json()[0]["code"] == 404 and "SR-9999999" in missing.json()[0]["description"]


@pytest.mark.parametrize(
    "params, parameter",
    [
        ({"start_date": "yesterday"}, "start_date"),
        ({"updated_after": "2024-13-01T00:00:00"}, "updated_after"),
        ({"page": "0"}, "page"),
        ({"page": "two"}, "page"),
        ({"page_size": "1001"}, "page_size"),
        ({"page_size": "0"}, "page_size"),
        ({"status": "pending"}, "status"),
        ({"service_code": "POTHOLE,UFO"}, "service_code"),
        ({"start_date": "2024-05-01", "end_date": "2024-04-01"}, "end_date"),
        ({"updated_after": "2024-05-01T00:00:00Z", "updated_before": "2024-04-30T00:00:00Z"}, "updated_before"),
        ({"since": "2024-01-01"}, "since"),
        ({"page": ["1", "2"]}, "page"),
        ({"status": ""}, "status"),
    ],
)
def test_bad_parameters_get_georeport_400_naming_the_parameter(client, params, parameter):
    response = client.get("/open311/v2/requests.json", params=params)
    assert response.status_code == 400
    (error,) = response.json()
    assert error["code"] == 400
    assert error["description"].startswith(f"{parameter}:"), error


def test_services_and_single_request_reject_unknown_parameters(client):
    for path in ("/open311/v2/services.json", "/open311/v2/requests/SR-0000001.json"):
        response = client.get(path, params={"format": "xml"})
        assert response.status_code == 400 and response.json()[0]["description"].startswith("format:")
    assert client.get("/open311/v2/services.json", params={"jurisdiction_id": "riverton"}).status_code == 200


def test_unencoded_plus_offset_is_understood(city, client):
    # a '+' typed raw into a URL arrives as a space; the server restores it
    response = client.get("/open311/v2/requests.json?start_date=2024-12-01T00:00:00+01:00&page_size=1000")
    expected = [r for r in city[1]["requests"] if _instant(r["requested_datetime"]) >= dt.datetime.fromisoformat("2024-12-01T00:00:00+01:00")]
    assert response.status_code == 200 and len(response.json()) == len(expected)


def test_only_json_format(client):
    assert client.get("/open311/v2/services.xml").status_code == 404
    assert client.get("/open311/v2/requests.xml").status_code == 404
    unknown = client.get("/open311/v2/nothing")
    assert unknown.status_code == 404 and unknown.json()["code"] == "not_found"
    assert client.post("/open311/v2/services.json").status_code == 405  # read-only API


def test_server_reads_the_store_fresh_on_every_request(tmp_path):
    rows = write_small_city(tmp_path, seed=3)["requests"]
    with serve_in_thread(tmp_path) as running, httpx.Client(base_url=running.url) as client:
        assert len(_all_pages(client, {}, 1000)) == N_REQUESTS
        # what `demo-city advance` does: append while the server is up (WAL: readers never block)
        writer = sqlite3.connect(tmp_path / "crm311" / "crm.sqlite")
        new = dict(rows[0], service_request_id="SR-0999999", updated_datetime="2025-06-01T10:00:00-04:00")
        writer.execute(f"INSERT INTO requests VALUES ({', '.join('?' * len(new))})", tuple(new.values()))
        writer.commit()
        writer.close()
        latest = client.get("/open311/v2/requests.json", params={"updated_after": "2025-06-01T00:00:00-04:00"}).json()
        assert [r["service_request_id"] for r in latest] == ["SR-0999999"]


def test_build_app_names_missing_stores(tmp_path):
    with pytest.raises(FileNotFoundError, match="crm311/crm.sqlite"):
        build_app(tmp_path)


# --- SODA ----------------------------------------------------------------------------------------


def _soda(client, resource, **params):
    response = client.get(f"/resource/{resource}.json", params=params)
    assert response.status_code == 200, response.text
    return response.json()


def test_soda_limit_offset_paging_covers_every_row_once(city, client):
    ids, offset = [], 0
    while batch := _soda(client, "ctrc-9p3m", **{"$select": "contract_id", "$limit": 17, "$offset": offset}):
        ids.extend(r["contract_id"] for r in batch)
        offset += 17
    assert sorted(ids) == sorted(c["contract_id"] for c in city[1]["contracts"])
    assert len(ids) == len(set(ids)) == N_CONTRACTS
    # default $limit is 1000; mlst has fewer rows than that
    assert len(_soda(client, "mlst-4h8q")) == N_MILESTONES


def test_soda_values_are_strings_nulls_omitted_system_fields_only_on_request(city, client):
    first = _soda(client, "vndr-2x7k", **{"$limit": 1})[0]
    assert ":id" not in first and "contact_name" not in first  # vendor 0 has no contact name
    contract = _soda(client, "ctrc-9p3m", **{"$where": "contract_id = 'CTR-0000'"})[0]
    assert contract["total_value"] == str(int(city[1]["contracts"][0]["total_value"])) and contract["season_year"] == "2024"
    response = client.get("/resource/ctrc-9p3m.json", params={"$select": ":*, contract_id, total_value", "$limit": 1})
    assert list(response.json()[0]) == [":id", ":updated_at", "contract_id", "total_value"]
    assert response.headers["X-SODA2-Types"] == '["meta_data", "meta_data", "text", "number"]'


def test_soda_where_with_and_or_parentheses_and_null(city, client):
    where = "(region = 'north' OR region = 'south') AND total_value >= 1000000 AND NOT status = 'withdrawn'"
    got = _soda(client, "ctrc-9p3m", **{"$where": where, "$select": "contract_id"})
    expected = [
        c for c in city[1]["contracts"]
        if c["region"] in ("north", "south") and c["total_value"] >= 1_000_000 and c["status"] != "withdrawn"
    ]  # fmt: skip
    assert sorted(r["contract_id"] for r in got) == sorted(c["contract_id"] for c in expected) and expected
    no_region = _soda(client, "ctrc-9p3m", **{"$where": "region IS NULL", "$select": "contract_id"})
    assert len(no_region) == sum(c["region"] is None for c in city[1]["contracts"])
    with_contact = _soda(client, "vndr-2x7k", **{"$where": "contact_name IS NOT NULL and status <> 'debarred'"})
    assert len(with_contact) == sum(v["contact_name"] is not None and v["status"] != "debarred" for v in city[1]["vendors"])


def test_soda_where_on_updated_at_and_string_quotes(city, client):
    cursor = "2024-01-10T00:00:00-05:00"
    got = _soda(client, "mlst-4h8q", **{"$where": f":updated_at > '{cursor}'", "$select": ":id,:updated_at", "$order": ":updated_at"})
    expected = sorted(m[":updated_at"] for m in city[1]["contract_milestones"] if m[":updated_at"] > cursor)
    assert [r[":updated_at"] for r in got] == expected and expected
    quoted = _soda(client, "vndr-2x7k", **{"$where": "vendor_name = 'O''Hara & Sons 1'"})
    assert [v["vendor_id"] for v in quoted] == ["VND-0001"]


def test_soda_order_asc_desc(city, client):
    got = _soda(client, "ctrc-9p3m", **{"$order": "total_value DESC, contract_id asc", "$select": "contract_id, total_value"})
    expected = sorted(city[1]["contracts"], key=lambda c: (-c["total_value"], c["contract_id"]))
    assert [r["contract_id"] for r in got] == [c["contract_id"] for c in expected]


def test_soda_full_text_q_and_simple_equality_filter(city, client):
    assert {v["vendor_id"] for v in _soda(client, "vndr-2x7k", **{"$q": "brightline"})} == {
        v["vendor_id"] for v in city[1]["vendors"] if "Brightline" in v["vendor_name"]
    }
    # '%' and '_' are literal in $q, not LIKE wildcards
    assert {v["vendor_name"].rsplit(" ", 1)[0] for v in _soda(client, "vndr-2x7k", **{"$q": "100%"})} == {"Acme 100% Supplies"}
    assert {v["vendor_name"].rsplit(" ", 1)[0] for v in _soda(client, "vndr-2x7k", **{"$q": "River_City"})} == {"River_City Tree Care"}
    assert _soda(client, "vndr-2x7k", **{"$q": "acme nosuchword"}) == []
    debarred = _soda(client, "vndr-2x7k", status="debarred")
    assert len(debarred) == sum(v["status"] == "debarred" for v in city[1]["vendors"]) > 0


@pytest.mark.parametrize(
    "params, fragment",
    [
        ({"$where": "status = "}, "$where"),
        ({"$where": "status = 'active"}, "$where"),
        ({"$where": "nosuch = 1"}, "nosuch"),
        ({"$where": "1=1; DROP TABLE vendors"}, "$where"),
        ({"$where": "status = 'x' OR 1=1) --"}, "$where"),
        ({"$where": "upper(status) = 'ACTIVE'"}, "$where"),
        ({"$where": "NOT " * 500 + "status = 'active'"}, "nested too deeply"),
        ({"$where": "status = 'x' OR " * 300 + "status = 'y'"}, "longer than 4000"),
        ({"$select": "vendor_id; DELETE FROM vendors"}, "$select"),
        ({"$select": "password"}, "password"),
        ({"$order": "vendor_id sideways"}, "$order"),
        ({"$order": "nosuch"}, "nosuch"),
        ({"$limit": "50001"}, "$limit"),
        ({"$limit": "ten"}, "$limit"),
        ({"$offset": "-1"}, "$offset"),
        ({"$group": "status"}, "$group"),
        ({"colour": "red"}, "colour"),
    ],
)
def test_soda_malformed_queries_are_400_and_change_nothing(city, client, params, fragment):
    response = client.get("/resource/vndr-2x7k.json", params=params)
    assert response.status_code == 400, response.text
    body = response.json()
    assert body["error"] is True and body["code"] == "query.compiler.malformed"
    assert fragment in body["message"]
    assert len(_soda(client, "vndr-2x7k")) == N_VENDORS  # the table is intact


def test_soda_unknown_resource_is_404(client):
    for path in ("/resource/abcd-1234.json", "/resource/vndr-2x7k.csv"):
        response = client.get(path)
        assert response.status_code == 404
        assert response.json()["code"] == "not_found" and "vndr-2x7k.json" in response.json()["message"]


# --- Fault injection -----------------------------------------------------------------------------


def test_fault_always_500_hits_only_its_service(city):
    with serve_in_thread(city[0], faults={"open311": "500"}) as running, httpx.Client(base_url=running.url) as client:
        for _ in range(3):
            assert client.get("/open311/v2/requests.json").status_code == 500
        assert client.get("/resource/vndr-2x7k.json").status_code == 200
        assert client.get("/health").status_code == 200


def test_fault_first_n_then_recover_and_live_changes(city):
    with serve_in_thread(city[0], faults="soda=503x2") as running, httpx.Client(base_url=running.url) as client:
        codes = [client.get("/resource/ctrc-9p3m.json", params={"$limit": 1}).status_code for _ in range(4)]
        assert codes == [503, 503, 200, 200]
        running.faults["open311"] = Fault(status=500, times=1)
        assert [client.get("/open311/v2/services.json").status_code for _ in range(2)] == [500, 200]


def test_fault_sleep_past_client_timeout(city):
    with serve_in_thread(city[0], faults={"open311": "sleep:1.5x1"}) as running:
        with httpx.Client(base_url=running.url, timeout=0.3) as client:
            with pytest.raises(httpx.ReadTimeout):
                client.get("/open311/v2/services.json")
            assert client.get("/open311/v2/services.json").status_code == 200  # recovered


@pytest.mark.parametrize("spec", ["open311=200", "crm=500", "open311", "soda=sleep:"])
def test_bad_fault_specs_are_rejected_with_the_entry_named(spec):
    with pytest.raises(ValueError, match="fault"):
        parse_faults(spec)


# --- Command line --------------------------------------------------------------------------------

CITYSTAT = Path(sys.executable).with_name("citystat")


def test_serve_help():
    result = subprocess.run([CITYSTAT, "demo-city", "serve", "--help"], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0 and "--port" in result.stdout and "--data" in result.stdout


def test_cli_serve_with_faults_from_environment(city):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {**os.environ, "CITYSTAT_DEMO_FAULTS": "soda=500x1"}
    proc = subprocess.Popen(
        [CITYSTAT, "demo-city", "serve", "--data", str(city[0]), "--port", str(port)],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )  # fmt: skip
    try:
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 30
        while True:
            try:
                httpx.get(f"{url}/health", timeout=1)
                break
            except httpx.TransportError:
                assert proc.poll() is None, proc.stderr.read().decode()
                assert time.monotonic() < deadline, "server did not start"
                time.sleep(0.1)
        assert httpx.get(f"{url}/resource/vndr-2x7k.json").status_code == 500
        assert len(httpx.get(f"{url}/resource/vndr-2x7k.json").json()) == N_VENDORS
        assert len(httpx.get(f"{url}/open311/v2/requests.json", params={"page_size": 1000}).json()) == N_REQUESTS
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        proc.stderr.close()
