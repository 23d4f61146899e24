"""`citystat inventory draft` on samples shaped exactly like public 311 exports (no network; tests/public_311_exports.py)."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import yaml
from openpyxl import Workbook

from public_311_exports import BOSTON_COLUMNS, NYC_COLUMNS, boston_row, draft, nyc_row, write_csv

ROOT = Path(__file__).resolve().parents[2]


def validate(path: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "citystat.cli", "inventory", "validate", str(path)], cwd=ROOT,
                          capture_output=True, text=True, timeout=120)


def fields_of(path: Path) -> tuple[dict, dict]:
    inventory = yaml.safe_load(path.read_text())
    entry = inventory["departments"][0]["systems"][0]["datasets"][0]
    return entry, {f["name"]: f for f in entry["fields"]}


def test_nyc_311_export_drafts_a_valid_entry_with_its_formats_key_codes_and_personal_data(tmp_path):
    sample = write_csv(tmp_path / "311_Service_Requests.csv", NYC_COLUMNS, [nyc_row(i) for i in range(40)])
    out = tmp_path / "nyc_draft.yaml"
    result = draft(str(sample), "-o", str(out), "--dataset", "service_requests", "--system", "nyc311", "--city", "New York")
    assert result.returncode == 0, result.stderr
    assert "drafted 41 fields from 40 rows" in result.stdout

    # review the draft as a person would
    entry, fields = fields_of(out)
    assert len(fields) == 41
    assert entry["column_mapping"]["Unique Key"] == "unique_key"
    assert entry["column_mapping"]["X Coordinate (State Plane)"] == "x_coordinate_state_plane"
    assert entry["primary_key"] == ["unique_key"]
    assert fields["unique_key"] == {**fields["unique_key"], "type": "integer", "required": True}
    for name in ("created_date", "due_date"):
        assert fields[name]["type"] == "datetime" and fields[name]["format"] == {"datetime": "%m/%d/%Y %I:%M:%S %p"}
    # 10 of 40 still open: Closed Date 25% empty, so not required
    assert fields["closed_date"]["type"] == "datetime" and "required" not in fields["closed_date"]
    assert "25% empty" in fields["closed_date"]["description"]
    assert fields["agency"]["allowed_values"] == ["DOT", "DSNY", "NYPD"]
    assert fields["status"]["allowed_values"] == ["Closed", "In Progress"]
    assert fields["incident_zip"]["type"] == "string"  # ZIP codes are codes, not numbers ("10001" all unpadded here)
    assert fields["latitude"]["type"] == "number"
    assert fields["resolution_description"]["sensitivity"] == "sensitive"  # free text
    assert "allowed_values" not in fields["resolution_description"]  # its text is not copied into the draft
    assert fields["agency_name"].get("sensitivity", "public") == "public"
    text = out.read_text()
    assert text.startswith("# DRAFT") and "owner, steward" in text and "primary key 'unique_key'" in text

    checked = validate(out)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert checked.stdout.startswith("OK ")


def test_boston_311_xlsx_drafts_ontime_codes_and_iso_timestamps(tmp_path):
    book = Workbook()
    sheet = book.active
    sheet.title = "311"
    sheet.append(BOSTON_COLUMNS)
    for i in range(30):
        row = boston_row(i)
        sheet.append([row[c] or None for c in BOSTON_COLUMNS])
    sample = tmp_path / "boston_311.xlsx"
    book.save(sample)
    out = tmp_path / "boston_draft.yaml"
    result = draft(str(sample), "-o", str(out), "--system", "boston311")
    assert result.returncode == 0, result.stderr
    entry, fields = fields_of(out)
    assert entry["connector"] == "xlsx_drop" and "column_mapping" not in entry  # names already safe
    assert entry["primary_key"] == ["case_enquiry_id"]
    assert fields["ontime"]["allowed_values"] == ["ONTIME", "OVERDUE"]
    assert fields["open_dt"]["type"] == "datetime" and fields["open_dt"]["format"] == {"datetime": "%Y-%m-%d %H:%M:%S"}
    assert fields["location_zipcode"]["type"] == "string"  # "02108": zero-padded, stays text
    assert fields["type"]["allowed_values"] == ["Request for Pothole Repair"]  # `type` is no reserved word: kept
    assert validate(out).returncode == 0


def test_personal_data_by_name_and_by_content_and_number_formats(tmp_path):
    rows = [{"Case No": f"C-{i}", "Caller Name": f"Person {i}", "Notes": f"call back {i:03d}-555-{1000 + i}",
             "Amount": f"({i},250.50)" if i % 2 else f"{i},100.00", "Paid": "Y" if i % 2 else "N",
             "Betrag": f"1.{i:03d},50"} for i in range(1, 21)]
    rows[0]["Group"] = "x"  # a SQL reserved word as a header: renamed, and mapped
    for r in rows[1:]:
        r["Group"] = "y"
    sample = write_csv(tmp_path / "ledger.csv", list(rows[0]), rows)
    out = tmp_path / "ledger.yaml"
    result = draft(str(sample), "-o", str(out), "--dataset", "ledger")
    assert result.returncode == 0, result.stderr
    entry, fields = fields_of(out)
    assert entry["column_mapping"]["Group"] == "group_value" and "group_value" in fields
    assert fields["caller_name"]["sensitivity"] == "pii"  # by its name
    assert fields["notes"]["sensitivity"] == "pii"  # phone numbers in the values
    assert fields["amount"]["type"] == "number"
    assert fields["amount"]["format"] == {"negative_parentheses": True, "thousands_separator": ","}
    assert fields["paid"] == {**fields["paid"], "type": "boolean", "format": {"true_values": ["Y"], "false_values": ["N"]}}
    assert fields["betrag"]["format"] == {"decimal_separator": ",", "thousands_separator": "."}
    # the console never shows values of personal data
    assert "Person 1" not in result.stdout and "555" not in result.stdout
    assert validate(out).returncode == 0


def test_bad_samples_get_one_line_errors_without_content_and_drafts_never_overwrite(tmp_path):
    ragged = tmp_path / "ragged.csv"
    ragged.write_text("a,b\n1,secret-value-123,extra\n")
    result = draft(str(ragged), "-o", str(tmp_path / "x.yaml"))
    assert result.returncode == 1
    assert "row 2 has 3 cells, the header 2" in result.stderr and "secret-value-123" not in result.stderr
    assert "Traceback" not in result.stderr and not (tmp_path / "x.yaml").exists()

    (tmp_path / "only_header.csv").write_text("a,b\n")
    assert "no data rows" in draft(str(tmp_path / "only_header.csv"), "-o", str(tmp_path / "y.yaml")).stderr

    existing = tmp_path / "existing.yaml"
    existing.write_text("keep me")
    good = write_csv(tmp_path / "good.csv", ["id"], [{"id": "1"}])
    refused = draft(str(good), "-o", str(existing))
    assert refused.returncode == 2 and existing.read_text() == "keep me"
    assert draft(str(good), "-o", str(tmp_path / "z.yaml"), "--dataset", "Bad Name").returncode == 2


def test_sqlite_table_is_drafted_through_the_sql_connector_without_the_url_in_the_entry(tmp_path):
    import sqlite3

    db = tmp_path / "crm.sqlite"
    con = sqlite3.connect(db)
    con.execute('create table "requests" (case_id integer, opened text, status text, amount real)')
    con.executemany("insert into requests values (?, ?, ?, ?)",
                    [(i, f"2022-05-{1 + i % 28:02d} 08:00:00", "OPEN" if i % 2 else "CLOSED", i * 1.5) for i in range(1, 31)])
    con.commit()
    con.close()
    out = tmp_path / "sql.yaml"
    result = draft(str(db), "--connector", "sqlite", "--source-object", "requests", "-o", str(out), "--system", "crm")
    assert result.returncode == 0, result.stderr
    entry, fields = fields_of(out)
    assert entry["connector"] == "sqlite" and entry["location"] == {"env": "CITYSTAT_CRM_URL"}
    assert entry["primary_key"] == ["case_id"]
    assert fields["case_id"]["type"] == "integer" and fields["opened"]["type"] == "datetime"
    assert fields["status"]["allowed_values"] == ["CLOSED", "OPEN"] and fields["amount"]["type"] == "number"
    assert validate(out).returncode == 0
    missing = draft(str(tmp_path / "nope.sqlite"), "--connector", "sqlite", "--source-object", "requests",
                    "-o", str(tmp_path / "n.yaml"))
    assert missing.returncode == 1 and "does not exist" in missing.stderr and "Traceback" not in missing.stderr


def test_soda_dataset_is_drafted_from_its_first_page_on_a_real_loopback_server(tmp_path):
    import json
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
    from urllib.parse import parse_qs, urlparse

    rows = [{":id": f"row-{i}", ":updated_at": f"2022-06-{1 + i % 28:02d}T10:00:00.000Z", "case_enquiry_id": str(101_004_000_000 + i),
             "ontime": "OVERDUE" if i % 3 == 0 else "ONTIME", "open_dt": f"2022-05-{1 + i % 28:02d}T08:00:00.000"}
            for i in range(50)]
    served = []

    class Soda(BaseHTTPRequestHandler):
        def do_GET(self):
            url = urlparse(self.path)
            query = {k: v[0] for k, v in parse_qs(url.query).items()}
            served.append(query)
            if url.path != "/resource/bos3-11aa.json":
                body, status = b'{"error": "not found"}', 404
            elif query.get("$select") == "count(*)":
                body, status = json.dumps([{"count": str(len(rows))}]).encode(), 200
            else:
                offset, limit = int(query.get("$offset", 0)), int(query.get("$limit", 1000))
                body, status = json.dumps(rows[offset:offset + limit]).encode(), 200
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Soda)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        base = f"http://127.0.0.1:{server.server_address[1]}"
        out = tmp_path / "soda.yaml"
        result = draft(base, "--connector", "soda", "--source-object", "bos3-11aa", "--max-rows", "20", "-o", str(out),
                       "--system", "boston311")
        assert result.returncode == 0, result.stderr
        assert "from 20 rows" in result.stdout  # bounded: the first 20 of 50
        entry, fields = fields_of(out)
        assert entry["connector"] == "soda" and entry["location"]["default"] == base
        assert entry["cursor_field"] == ":updated_at" and ":id" in fields
        assert fields["ontime"]["allowed_values"] == ["ONTIME", "OVERDUE"]
        assert fields["open_dt"]["format"] == {"datetime": "%Y-%m-%dT%H:%M:%S.%f"}
        assert validate(out).returncode == 0
        assert all(int(q.get("$offset", 0)) < 20 for q in served)  # never paged past what it needed
        gone = draft(base, "--connector", "soda", "--source-object", "nope-0000", "-o", str(tmp_path / "g.yaml"))
        assert gone.returncode == 1 and "Traceback" not in gone.stderr and "not found" not in gone.stderr
    finally:
        server.shutdown()
        server.server_close()
