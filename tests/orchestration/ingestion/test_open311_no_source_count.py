"""Open311 GeoReport v2 offers no count of its rows: the reconciliation of an Open311 batch says so, and never
reports a source count it does not have (no "source 0"), while still proving landed = staged + quarantined +
superseded. Real demo server on loopback, real connector and landing."""
from __future__ import annotations

import sqlite3

import duckdb
import pytest

from citystat.connectors import SourceSpec, build_connector
from citystat.quality.reconciliation import OPEN311_NO_COUNT, reconcile
from data_inventory import load_inventory
from demo_city.servers import serve_in_thread


@pytest.mark.timeout(300)
def test_open311_reconciliation_names_the_missing_source_count(city, landing, fast):
    ref = load_inventory().get("crm311", "service_requests")
    with serve_in_thread(city) as server:
        spec = SourceSpec("crm311", "service_requests", "open311", f"{server.url}/open311/v2", "requests.json",
                          cursor_field="updated_datetime", primary_key=("service_request_id",))
        result = landing.load(build_connector(spec, fast))
    with sqlite3.connect(city / "crm311" / "crm.sqlite") as crm:
        (expected,) = crm.execute("SELECT count(*) FROM requests").fetchone()
    assert result.landed and result.rows == expected and result.source_rows is None
    (entry,) = landing.entries("crm311", "service_requests")
    assert "source_rows" not in entry

    parts = [str(p) for p in result.parts]
    con = duckdb.connect()
    con.execute("CREATE SCHEMA staging; CREATE SCHEMA quality")
    con.execute(f"CREATE TABLE staging.base_crm311__service_requests AS SELECT * FROM read_parquet({parts!r})")
    con.execute("CREATE TABLE staging.stg_crm311__service_requests AS SELECT * FROM staging.base_crm311__service_requests")
    con.execute("CREATE TABLE quality.quarantine_crm311__service_requests AS "
                "SELECT * FROM staging.base_crm311__service_requests LIMIT 0")
    outcome = reconcile(ref, landing, con)
    text = outcome.describe()
    assert outcome.holds, text
    assert f"no source count for 1 batch(es) ({OPEN311_NO_COUNT})" in text, text
    assert f"raw {expected} = staged {expected} + quarantined 0 + superseded 0" in text, text
    assert "source 0" not in text and "source" not in outcome.totals()
    assert outcome.totals()["uncounted_batches"] == 1 and outcome.totals()["source_counted_batches"] == 0
