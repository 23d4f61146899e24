"""The demo systems answer bad parameters with HTTP 400 and a message, never 500: huge integers in $where,
$offset, $limit, page and page_size, out-of-range dates, non-ASCII digits. Real HTTP (serve_in_thread)."""
from __future__ import annotations

import importlib.util
from pathlib import Path

import httpx
import pytest

from demo_city.servers import serve_in_thread

_spec = importlib.util.spec_from_file_location("_servers_support", Path(__file__).resolve().parents[1] / "demo_city" / "test_servers.py")
_support = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_support)

HUGE = "99999999999999999999"
SODA = "/resource/ctrc-9p3m.json"
OPEN311 = "/open311/v2/requests.json"
BAD = [
    (SODA, {"$where": f":id > {HUGE}"}),
    (SODA, {"$where": f":id > -{HUGE}"}),
    (SODA, {"$where": f"contract_id = {HUGE}{HUGE}"}),
    (SODA, {"$where": "contract_id = \u0967\u0966\u0966"}),
    (SODA, {"$offset": HUGE}),
    (SODA, {"$offset": "-1"}),
    (SODA, {"$limit": HUGE}),
    (SODA, {"$limit": "\u0967\u0966\u0966"}),  # $limit=१००
    (SODA, {"$offset": "\uff11\uff10"}),  # full-width digits
    (SODA, {"$limit": " 5"}),
    (SODA, {"$limit": "1_000"}),
    # the count(*) a connector reconciles with: the same filters, the same 400s
    (SODA, {"$select": "count(*)", "$where": f":id > {HUGE}"}),
    (SODA, {"$select": "count(*)", "$where": ":updated_at >= '2026-02-30T00:00:00'"}),
    (SODA, {"$select": "count(*)", "$where": ":updated_at >= '२०२०-01-01'"}),
    (SODA, {"$select": "count(*)", "$where": "no_such_column = 'x'"}),
    (SODA, {"$select": "count(*)); drop table contracts; --"}),
    (SODA, {"$select": "count(no_such_column)"}),
    (SODA, {"$select": "count(*)", "$offset": HUGE}),
    (OPEN311, {"page": "9223372036854775807"}),
    (OPEN311, {"page": HUGE}),
    (OPEN311, {"page_size": HUGE}),
    (OPEN311, {"page": "\u0967"}),
    (OPEN311, {"start_date": "0001-01-01T00:00:00"}),
    (OPEN311, {"end_date": "9999-12-31T23:59:59-12:00"}),
    (OPEN311, {"updated_after": "0001-01-01T00:00:00+14:00"}),
    (OPEN311, {"updated_before": "9999-12-31"}),
    (OPEN311, {"start_date": "\u0968\u0966\u0968\u0966-01-01"}),
    (OPEN311, {"start_date": "2024-02-30"}),
]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    root = tmp_path_factory.mktemp("city")
    _support.write_small_city(root)
    with serve_in_thread(root) as running:
        yield running


@pytest.mark.timeout(120)
def test_bad_parameters_answer_400_with_a_message(server):
    with httpx.Client(base_url=server.url, timeout=20) as client:
        outcomes = {}
        for path, params in BAD:
            response = client.get(path, params=params)
            outcomes[(path, tuple(params.items()))] = response.status_code
            assert response.status_code == 400, f"{path} {params}: {response.status_code} {response.text[:300]}"
            assert response.text and "Traceback" not in response.text
        # and good parameters at the edges still answer
        assert client.get(SODA, params={"$limit": "5", "$offset": "0", "$where": ":id > -9223372036854775808"}).status_code == 200
        assert client.get(OPEN311, params={"page": "1000000000", "start_date": "1000-01-02"}).json() == []
