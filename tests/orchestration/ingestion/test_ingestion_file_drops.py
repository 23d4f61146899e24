"""CSV and XLSX drop folders: text exactly as in the file, each file once, drift stops a file, not the rest."""
from __future__ import annotations

import datetime as dt
import os

import openpyxl
import pytest

from citystat.connectors import SchemaDrift, SourceError, SourceSpec, build_connector

from .helpers import landed, snapshot_of

FIELDS = ("case_id", "owner_phone", "opened_date", "status", "notes")


def case_spec(folder, mapping=None, fields=FIELDS) -> SourceSpec:
    return SourceSpec("ce_vacant", "cases", "csv_drop", str(folder), "vacant_cases_*.csv",
                      column_mapping=mapping or {}, fields=fields)


def write_csv(path, text: str):
    path.write_text(text, encoding="utf-8")
    return path


def test_csv_values_land_as_text_exactly_as_in_the_file(tmp_path, landing, fast):
    drops = tmp_path / "drops"
    drops.mkdir()
    write_csv(drops / "vacant_cases_2026-10-01.csv",
              "case_id,owner_phone,opened_date,status,notes\n"
              'CASE-00001,007-555-0100,2026-10-01,open,"two\nlines, and a comma"\n'
              "CASE-00002,,2026-10-01,addressed,\n")
    write_csv(drops / "other_export.csv", "x\n1\n")  # not matching the glob: ignored
    result = landing.load(build_connector(case_spec(drops), fast))
    assert result.rows == 2 and result.files[0]["file"] == "vacant_cases_2026-10-01.csv"
    assert landed(landing, "ce_vacant", "cases",
                  "SELECT case_id, owner_phone, notes, _source_file, _row_number, typeof(opened_date) FROM batch ORDER BY 1") == [
        ("CASE-00001", "007-555-0100", "two\nlines, and a comma", "vacant_cases_2026-10-01.csv", 1, "VARCHAR"),
        ("CASE-00002", "", "", "vacant_cases_2026-10-01.csv", 2, "VARCHAR"),
    ]


def test_each_file_lands_once_and_a_corrected_file_lands_again(tmp_path, landing, fast):
    drops = tmp_path / "drops"
    drops.mkdir()
    header = "case_id,owner_phone,opened_date,status,notes\n"
    write_csv(drops / "vacant_cases_2026-10-01.csv", header + "CASE-1,,2026-10-01,open,\n")
    write_csv(drops / "vacant_cases_2026-10-02.csv", header + "CASE-2,,2026-10-02,open,\nCASE-3,,2026-10-02,open,\n")
    first = landing.load(build_connector(case_spec(drops), fast))
    before = snapshot_of(landing.root)
    rerun = landing.load(build_connector(case_spec(drops), fast))
    assert (first.rows, len(first.files), rerun.landed) == (3, 2, False)
    assert snapshot_of(landing.root) == before  # ledger and batches untouched

    write_csv(drops / "vacant_cases_2026-10-03.csv", header + "CASE-4,,2026-10-03,open,\n")
    write_csv(drops / "vacant_cases_2026-10-01.csv", header + "CASE-1,,2026-10-01,addressed,\n")  # re-exported
    third = landing.load(build_connector(case_spec(drops), fast))
    assert sorted(f["file"] for f in third.files) == ["vacant_cases_2026-10-01.csv", "vacant_cases_2026-10-03.csv"]
    assert landed(landing, "ce_vacant", "cases", "SELECT count(*), count(DISTINCT _load_id) FROM batch") == [(5, 2)]


def test_a_renamed_column_stops_that_file_names_it_and_lands_once_the_inventory_maps_it(tmp_path, landing, fast):
    drops = tmp_path / "drops"
    drops.mkdir()
    write_csv(drops / "vacant_cases_2026-10-01.csv", "case_id,owner_phone,opened_date,status,notes\nCASE-1,,2026-10-01,open,\n")
    drifted = write_csv(drops / "vacant_cases_2026-10-02.csv",
                        "case_id,owner_telephone,opened_date,status,notes,priority\nCASE-2,555,2026-10-02,open,,high\n")
    result = landing.load(build_connector(case_spec(drops), fast))
    # The good file landed; the drifted one did not and is named with its columns.
    assert [f["file"] for f in result.files] == ["vacant_cases_2026-10-01.csv"]
    assert len(result.rejected_files) == 1
    problem = result.rejected_files[0]
    assert str(drifted) in problem and "missing declared column(s) owner_phone" in problem
    assert "undeclared column(s) owner_telephone, priority" in problem
    message = str(SchemaDrift(case_spec(drops), result.rejected_files))
    assert "ce_vacant.cases" in message and "vacant_cases_2026-10-02.csv" in message

    again = landing.load(build_connector(case_spec(drops), fast))  # still drifted, still reported, nothing new
    assert not again.landed and len(again.rejected_files) == 1

    fixed_spec = case_spec(drops, mapping={"owner_telephone": "owner_phone"}, fields=(*FIELDS, "priority"))
    fixed = landing.load(build_connector(fixed_spec, fast))
    assert [f["file"] for f in fixed.files] == ["vacant_cases_2026-10-02.csv"] and not fixed.rejected_files
    assert landed(landing, "ce_vacant", "cases",
                  f"SELECT case_id, owner_phone, priority FROM batch WHERE _load_id = '{fixed.load_id}'") == [("CASE-2", "555", "high")]


def test_a_malformed_row_sets_the_file_aside_naming_file_line_and_field_and_lands_nothing_of_it(tmp_path, landing, fast):
    drops = tmp_path / "drops"
    drops.mkdir()
    write_csv(drops / "vacant_cases_2026-10-01.csv",
              "case_id,owner_phone,opened_date,status,notes\nCASE-1,,2026-10-01,open,\nCASE-2,,2026-10-02,open,,surplus\n")
    result = landing.load(build_connector(case_spec(drops), fast))
    assert not result.landed and [(f["file"], f["line"], f["row"], f["field"]) for f in result.set_aside] == [
        ("vacant_cases_2026-10-01.csv", 3, 2, "#6 (beyond the header)")]
    assert "ragged" in result.set_aside[0]["reason"] and "surplus" not in str(result.set_aside)  # never the content
    assert landing.entries() == [] and list(landing.dataset_dir("ce_vacant", "cases").glob("*.parquet")) == []


def write_paving_workbook(path, rows, header=("report_week", "segment_id", "length_miles", "actual_start", "rework_required")):
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.title = "report"
    sheet.append(header)
    for row in rows:
        sheet.append(row)
    workbook.create_sheet("notes").append(["not data"])
    workbook.save(path)
    return path


def test_xlsx_cells_land_as_the_text_a_reader_sees(tmp_path, landing, fast):
    drops = tmp_path / "paving"
    drops.mkdir()
    write_paving_workbook(drops / "paving_weekly_2026-05-02.xlsx", [
        (dt.date(2026, 5, 2), "SEG-0001", 0.75, dt.datetime(2026, 4, 28, 7, 30), "N"),
        (),  # a blank spacer row
        (dt.date(2026, 5, 2), "SEG-0002", 2, None, "Y"),
    ])
    (drops / "~$paving_weekly_2026-05-02.xlsx").write_bytes(b"Excel lock file")
    spec = SourceSpec("pw_paving", "paving_reports", "xlsx_drop", str(drops), "paving_weekly_*.xlsx", sheet="report",
                      fields=("report_week", "segment_id", "length_miles", "actual_start", "rework_required"))
    result = landing.load(build_connector(spec, fast))
    assert result.rows == 2
    assert landed(landing, "pw_paving", "paving_reports",
                  "SELECT report_week, segment_id, length_miles, actual_start, rework_required, _row_number FROM batch ORDER BY 2") == [
        ("2026-05-02", "SEG-0001", "0.75", "2026-04-28 07:30:00", "N", 1),
        ("2026-05-02", "SEG-0002", "2", None, "Y", 2),
    ]


def test_xlsx_without_the_declared_sheet_is_reported_and_the_other_files_land(tmp_path, landing, fast):
    drops = tmp_path / "paving"
    drops.mkdir()
    write_paving_workbook(drops / "paving_weekly_2026-05-02.xlsx", [(dt.date(2026, 5, 2), "SEG-1", 1.0, None, "N")])
    wrong = drops / "paving_weekly_2026-05-09.xlsx"
    workbook = openpyxl.Workbook()
    workbook.active.title = "Sheet1"
    workbook.save(wrong)
    spec = SourceSpec("pw_paving", "paving_reports", "xlsx_drop", str(drops), "paving_weekly_*.xlsx", sheet="report")
    result = landing.load(build_connector(spec, fast))
    assert result.rows == 1
    assert result.rejected_files == [f"{wrong}: no sheet 'report' (sheets: Sheet1)"]


def test_a_missing_drop_folder_names_the_folder_and_its_environment_variable(tmp_path, landing, fast):
    spec = SourceSpec("ce_vacant", "cases", "csv_drop", str(tmp_path / "nowhere"), "*.csv", location_env="CITYSTAT_CE_DROPS")
    with pytest.raises(SourceError, match=r"drop folder .*nowhere does not exist \(set CITYSTAT_CE_DROPS"):
        landing.load(build_connector(spec, fast))


def test_large_csv_streams_in_several_chunks(tmp_path, landing, fast, monkeypatch):
    import citystat.connectors.file_drop as file_drop

    monkeypatch.setattr(file_drop, "CSV_BLOCK_BYTES", 4096)  # force many Arrow batches on a small file
    drops = tmp_path / "drops"
    drops.mkdir()
    lines = "".join(f"CASE-{i},,2026-10-01,open,note {i}\n" for i in range(5000))
    write_csv(drops / "vacant_cases_2026-10-01.csv", "case_id,owner_phone,opened_date,status,notes\n" + lines)
    chunks = list(build_connector(case_spec(drops), fast).extract(landing.state("ce_vacant", "cases")))
    assert len(chunks) > 10 and sum(c.num_rows for c in chunks) == 5000
    assert [c.first_row_number for c in chunks[:2]] == [1, 1 + chunks[0].num_rows]
    result = landing.load(build_connector(case_spec(drops), fast))
    assert landed(landing, "ce_vacant", "cases", "SELECT count(*), min(_row_number), max(_row_number), count(DISTINCT case_id) FROM batch") == [(5000, 1, 5000, 5000)]
    assert len(result.parts) == 1  # one batch file, many row groups
    assert os.path.getsize(result.parts[0]) > 0
