"""Declared value formats: a drafted (then reviewed) entry reads an export's own formats in the quality suites'
typed reads (citystat.quality.landed.typed_sql), and a value that does not match its declared format is NULL there,
so the "must parse as its type" checks fail on it. Real DuckDB over the sample file, as landing stores it (text)."""
from __future__ import annotations

from datetime import datetime

import duckdb
import yaml

from citystat.quality.landed import field_sql
from citystat.warehouse import quote_identifier, quote_literal
from data_inventory.loader import load_inventory
from data_inventory.model import Field
from public_311_exports import BOSTON_COLUMNS, NYC_COLUMNS, boston_row, draft, nyc_row, write_csv


def typed_rows(csv_path, fields, mapping):
    """Each field typed by its declared format, from the CSV read all-text (as a file drop lands)."""
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    source = f"read_csv({quote_literal(str(csv_path))}, all_varchar = true, header = true)"
    renamed = ", ".join(f"{quote_identifier(src)} as {quote_identifier(name)}" for src, name in mapping.items())
    exprs = ", ".join(f"{field_sql(f)} as {quote_identifier(f.name)}" for f in fields)
    return con.execute(f"SELECT {exprs} FROM (SELECT {renamed} FROM {source})").fetchall()


def test_nyc_timestamps_read_with_the_drafted_format_and_a_value_in_another_format_does_not_parse(tmp_path):
    sample = write_csv(tmp_path / "nyc_sample.csv", NYC_COLUMNS, [nyc_row(i) for i in range(12)])
    out = tmp_path / "nyc.yaml"
    assert draft(str(sample), "-o", str(out), "--system", "nyc311").returncode == 0
    ref = next(iter(load_inventory(out).datasets()))
    fields = [f for f in ref.dataset.fields if f.name in ("unique_key", "created_date", "due_date")]
    assert fields[1].value_format() == {"datetime": "%m/%d/%Y %I:%M:%S %p"}
    # a later export with one value written another way
    rows = [nyc_row(i) for i in range(12)]
    rows[5]["Created Date"] = "2022-05-06 13:00:03"
    sample = write_csv(tmp_path / "nyc_later.csv", NYC_COLUMNS, rows)
    typed = typed_rows(sample, fields, {c: n for c, n in ref.dataset.column_mapping.items() if n in {f.name for f in fields}})
    by_key = {r[0]: r for r in typed}
    # row 0: "05/01/2022 01:00:03 PM" (i=0: day 1, hour 1, PM) and due "05/02/2022 12:00:03 AM", by hand
    assert by_key[54_000_000][1] == datetime(2022, 5, 1, 13, 0, 3)
    assert by_key[54_000_000][2] == datetime(2022, 5, 2, 0, 0, 3)
    assert by_key[54_000_005][1] is None  # the ISO value in an AM/PM column: uncastable, quarantined downstream
    assert sum(r[1] is None for r in typed) == 1


def test_nyc_draft_records_the_format_only_when_every_value_has_it(tmp_path):
    rows = [nyc_row(i) for i in range(12)]
    rows[5]["Created Date"] = "2022-05-06 13:00:03"
    sample = write_csv(tmp_path / "mixed.csv", NYC_COLUMNS, rows)
    out = tmp_path / "mixed.yaml"
    assert draft(str(sample), "-o", str(out)).returncode == 0
    field = next(f for f in yaml.safe_load(out.read_text())["departments"][0]["systems"][0]["datasets"][0]["fields"]
                 if f["name"] == "created_date")
    assert field["type"] == "string" and "format" not in field  # mixed formats: a person decides


def test_boston_ontime_code_map_gives_the_sources_own_flag_and_an_unknown_code_does_not_parse(tmp_path):
    rows = [boston_row(i) for i in range(9)]
    rows[4]["ontime"] = "LATE"
    sample = write_csv(tmp_path / "boston.csv", BOSTON_COLUMNS, rows)
    # the reviewer's edit to the draft: ontime is a boolean written ONTIME / OVERDUE
    ontime = Field.from_dict({"name": "ontime", "type": "boolean", "format": {"code_map": {"ONTIME": True, "OVERDUE": False}}})
    key = Field.from_dict({"name": "case_enquiry_id", "type": "integer"})
    opened = Field.from_dict({"name": "open_dt", "type": "datetime", "format": {"datetime": "%Y-%m-%d %H:%M:%S",
                                                                               "timezone": "America/Chicago"}})
    typed = {r[0]: r for r in typed_rows(sample, [key, ontime, opened],
                                         {"case_enquiry_id": "case_enquiry_id", "ontime": "ontime", "open_dt": "open_dt"})}
    # boston_row: OVERDUE when i % 3 == 0, else ONTIME; i = 4 is the unknown code
    expected = {101_004_000_000 + i: (None if i == 4 else i % 3 != 0) for i in range(9)}
    assert {k: r[1] for k, r in typed.items()} == expected
    # 08:01 in Chicago is 09:01 in New York (the city's zone), by hand
    assert typed[101_004_000_001][2] == datetime(2022, 5, 2, 9, 1)


def test_ledger_number_formats_parentheses_decimal_comma_and_yes_no(tmp_path):
    sample = tmp_path / "ledger.csv"
    sample.write_text("amount,betrag,paid\n\"(1,250.50)\",\"1.234,56\",Y\n\"3,000.00\",\"-7,5\",N\n12abc,\"1,2,3\",maybe\n")
    fields = [Field.from_dict({"name": "amount", "type": "number", "format": {"negative_parentheses": True, "thousands_separator": ","}}),
              Field.from_dict({"name": "betrag", "type": "number", "format": {"decimal_separator": ",", "thousands_separator": "."}}),
              Field.from_dict({"name": "paid", "type": "boolean", "format": {"true_values": ["Y"], "false_values": ["N"]}})]
    assert typed_rows(sample, fields, {"amount": "amount", "betrag": "betrag", "paid": "paid"}) == [
        (-1250.5, 1234.56, True), (3000.0, -7.5, False), (None, None, None)]


def test_drafted_nyc_entry_lands_every_row_and_its_timestamps_read_with_the_declared_format(tmp_path, monkeypatch):
    from citystat.connectors import build_connector
    from citystat.ingestion import source_spec
    from citystat.landing import Landing

    drops = tmp_path / "city" / "drops" / "nyc311"
    drops.mkdir(parents=True)
    sample = write_csv(drops / "311_Service_Requests.csv", NYC_COLUMNS, [nyc_row(i) for i in range(40)])
    out = tmp_path / "nyc.yaml"
    assert draft(str(sample), "-o", str(out), "--system", "nyc311").returncode == 0
    monkeypatch.delenv("CITYSTAT_NYC311_DROPS", raising=False)
    ref = next(iter(load_inventory(out).datasets()))
    result = Landing(tmp_path / "landing").load(build_connector(source_spec(ref, tmp_path / "city")))
    assert result.landed and result.rows == 40 and not result.set_aside and not result.rejected_files
    fields = {f.name: f for f in ref.dataset.fields}
    con = duckdb.connect()
    source = f"read_parquet([{', '.join(quote_literal(str(p)) for p in result.parts)}])"
    closed, opened, unparsed = con.execute(
        f"SELECT count({field_sql(fields['closed_date'])}), count({field_sql(fields['created_date'])}), "
        f"count(*) FILTER (WHERE created_date IS NOT NULL AND {field_sql(fields['created_date'])} IS NULL) FROM {source}").fetchone()
    assert (closed, opened, unparsed) == (30, 40, 0)  # every 4th of 40 still open, by hand
