"""The open-data privacy gate on small hand-built snapshots, through the real `citystat open-data` command line:
restricted fields and planted personal details never reach a file, small cells are suppressed so totals cannot
give them back, a mosaic risk holds an export until a named reviewer approves it, non-public data makes no file."""
from __future__ import annotations

import json

import duckdb
import pandas as pd
import pytest
import yaml

from pipeline_helpers import citystat, pipeline_env

pytestmark = pytest.mark.timeout(180)

PLANTED_NAME, PLANTED_PHONE, PLANTED_EMAIL = "Carmen Lopez", "555-867-5309", "carmen.lopez@example.org"


def _city(tmp_path, requests: pd.DataFrame, config: dict) -> dict:
    """A snapshot holding ``requests`` as marts.fct_service_requests, an open-data config, and the env to use them."""
    env = pipeline_env(tmp_path)
    warehouse = tmp_path / "warehouse"
    warehouse.mkdir()
    con = duckdb.connect(str(warehouse / "citystat.duckdb"))
    con.execute("CREATE SCHEMA marts")
    con.register("requests", requests)
    con.execute("CREATE TABLE marts.fct_service_requests AS SELECT * FROM requests")
    con.execute("CREATE TABLE marts.dim_crew AS SELECT 'C-1' AS crew_id, 'North' AS yard")
    con.close()
    (tmp_path / "open_data.yaml").write_text(yaml.safe_dump(config))
    env["CITYSTAT_OPEN_DATA_CONFIG"] = str(tmp_path / "open_data.yaml")
    return env


def _requests(n_per_group: int = 12, lonely: bool = False) -> pd.DataFrame:
    rows = [{"service_request_id": f"SR-{i}", "service_code": code, "zipcode": "30101", "address_id": "A-1",
             "requested_date": "2026-10-01", "service_name": "Pothole",
             "description": f"call {PLANTED_NAME} at {PLANTED_PHONE}", "email": PLANTED_EMAIL}
            for code in ("POTHOLE", "GRAFFITI") for i in range(n_per_group)]
    for i, row in enumerate(rows):
        row["service_request_id"] = f"SR-{i}"
    rows[0]["service_name"] = f"Pothole; call {PLANTED_NAME} at {PLANTED_PHONE} or {PLANTED_EMAIL}"
    if lonely:  # one request alone at its address, day and type: it singles out a resident
        rows.append({**rows[1], "service_request_id": "SR-999", "address_id": "A-2"})
    return pd.DataFrame(rows)


def _files(root):
    return {p.relative_to(root).as_posix(): p for p in root.rglob("*") if p.is_file() and ".versions" not in p.parts[:1]}


def test_planted_personal_details_never_reach_an_export(tmp_path):
    env = _city(tmp_path, _requests(), {"k": 10, "datasets": {"crm311.service_requests": {"table": "marts.fct_service_requests"}}})
    result = citystat(env, "open-data", "build")
    assert "crm311.service_requests: released (24 rows)" in result.stdout, result.stdout
    root = tmp_path / "warehouse" / "open_data"
    csv = (root / "crm311.service_requests" / "crm311.service_requests.csv").read_text()
    parquet = pd.read_parquet(root / "crm311.service_requests" / "crm311.service_requests.parquet")
    for text in (csv, parquet.to_csv()):
        assert PLANTED_NAME not in text and PLANTED_PHONE not in text and PLANTED_EMAIL not in text
    # the public free text is kept, masked by the marts' scrubber; the sensitive and pii columns are gone
    assert "Pothole; call [name redacted] at [phone redacted] or [email redacted]" in csv
    assert not {"description", "email"} & set(parquet.columns)
    assert list(parquet.columns) == ["service_request_id", "service_code", "zipcode", "address_id", "requested_date", "service_name"]
    dictionary = json.loads((root / "crm311.service_requests" / "crm311.service_requests.dictionary.json").read_text())
    assert [f["name"] for f in dictionary["fields"]] == list(parquet.columns)
    assert "the caller's own words" not in json.dumps(dictionary)  # a removed field is not described either


def test_small_cells_are_suppressed_and_cannot_be_recovered_from_totals(tmp_path):
    # counts by zipcode (rows) and service code (columns), k = 10:
    #            GRAFFITI POTHOLE SIGN
    #   30101       20       3     15      3 < 10: hidden; then, by hand: row 30101 needs a second blank -> SIGN 15
    #   30102       12      11     30      (smallest other); column POTHOLE needs a second -> 30102 11; column SIGN
    #   30103       25      14     40      needs a second -> 30102 30 (30 < 40). Rows and columns now hold 0 or 2.
    counts = {("30101", "GRAFFITI"): 20, ("30101", "POTHOLE"): 3, ("30101", "SIGN"): 15,
              ("30102", "GRAFFITI"): 12, ("30102", "POTHOLE"): 11, ("30102", "SIGN"): 30,
              ("30103", "GRAFFITI"): 25, ("30103", "POTHOLE"): 14, ("30103", "SIGN"): 40}
    rows = [{"zipcode": z, "service_code": c} for (z, c), n in counts.items() for _ in range(n)]
    env = _city(tmp_path, pd.DataFrame(rows), {"k": 10, "aggregates": {"by_zip": {
        "table": "marts.fct_service_requests", "rows": "zipcode", "columns": "service_code"}}})
    result = citystat(env, "open-data", "build")
    assert "by_zip: released (4 rows, 4 cell(s) suppressed)" in result.stdout, result.stdout
    table = pd.read_csv(tmp_path / "warehouse" / "open_data" / "by_zip" / "by_zip.csv", dtype={"zipcode": str}).set_index("zipcode")
    blanks = {(z, c) for z in table.index for c in table.columns if pd.isna(table.at[z, c])}
    assert blanks == {("30101", "POTHOLE"), ("30101", "SIGN"), ("30102", "POTHOLE"), ("30102", "SIGN")}
    # the totals are the true ones (20+3+15 = 38, ..., 3+11+14 = 28, grand 170)
    assert table.at["30101", "Total"] == 38 and table.at["Total", "POTHOLE"] == 28 and table.at["Total", "Total"] == 170
    # not recoverable: another filling of the blanks (3+1, 15-1, 11-1, 30+1) gives every published total too
    other = table.copy()
    for cell, value in {("30101", "POTHOLE"): 4, ("30101", "SIGN"): 14, ("30102", "POTHOLE"): 10, ("30102", "SIGN"): 31}.items():
        other.at[cell] = value
    body = other.drop(index="Total", columns="Total").astype(int)
    assert (body.sum(axis=1) == table["Total"].drop("Total")).all()
    assert (body.sum(axis=0) == table.loc["Total"].drop("Total")).all()


def test_mosaic_risk_holds_the_export_until_a_named_reviewer_approves_it(tmp_path):
    config = {"k": 10, "datasets": {"crm311.service_requests": {
        "table": "marts.fct_service_requests", "quasi_identifiers": ["address_id", "requested_date", "service_code"]}}}
    env = _city(tmp_path, _requests(lonely=True), config)
    root = tmp_path / "warehouse" / "open_data"
    held = citystat(env, "open-data", "build", check=False)
    assert held.returncode == 1, held.stdout + held.stderr
    assert "crm311.service_requests: held: 1 combination(s) of address_id + requested_date + service_code" in held.stdout
    assert not (root / "crm311.service_requests").exists()
    manifest = json.loads((root / "manifest.json").read_text())
    assert [e["status"] for e in manifest["exports"]] == ["held"]
    review = citystat(env, "open-data", "review")
    assert "crm311.service_requests: pending" in review.stdout
    # approving needs a name, then records who and when
    assert citystat(env, "open-data", "approve", "crm311.service_requests", "--reviewer", " ", check=False).returncode == 1
    approved = citystat(env, "open-data", "approve", "crm311.service_requests", "--reviewer", "Dana Whitfield")
    assert "approved by Dana Whitfield" in approved.stdout
    released = citystat(env, "open-data", "build")
    assert "crm311.service_requests: released (25 rows)" in released.stdout
    dictionary = json.loads((root / "crm311.service_requests" / "crm311.service_requests.dictionary.json").read_text())
    assert dictionary["privacy"]["approval"]["approved_by"] == "Dana Whitfield"
    # the approval is remembered for new rows of the same shape ...
    again = _requests(lonely=True)
    again.loc[len(again)] = {**again.iloc[2].to_dict(), "service_request_id": "SR-1000", "address_id": "A-3"}
    _replace_table(tmp_path, again)
    assert "crm311.service_requests: released (26 rows)" in citystat(env, "open-data", "build").stdout
    # ... and not once the shape changes (a new column): held again, and the released file withdrawn
    again["channel"] = "phone"
    _replace_table(tmp_path, again)
    assert citystat(env, "open-data", "build", check=False).returncode == 1
    assert not (root / "crm311.service_requests").exists()


def _replace_table(tmp_path, frame):
    con = duckdb.connect(str(tmp_path / "warehouse" / "citystat.duckdb"))
    con.register("requests", frame)
    con.execute("CREATE OR REPLACE TABLE marts.fct_service_requests AS SELECT * FROM requests")
    con.close()


def test_non_public_datasets_produce_no_file(tmp_path):
    # pw_mms.crews is non-public in the inventory; cs_telephony.call_answer_times is public but not yet published
    env = _city(tmp_path, _requests(), {"k": 10, "datasets": {
        "pw_mms.crews": {"table": "marts.dim_crew"},
        "cs_telephony.call_answer_times": {"table": "marts.dim_crew"}}})
    result = citystat(env, "open-data", "build")
    assert "pw_mms.crews: not_public: access level 'non-public'" in result.stdout
    assert "cs_telephony.call_answer_times: not_public: access level 'public', publication 'planned'" in result.stdout
    root = tmp_path / "warehouse" / "open_data"
    assert set(_files(root)) == {"manifest.json"}
