"""Hostile CSV drops through the real landing path: each bad-input class is either landed with every row
accounted for, or set aside (named: file, line, data row, field; never its content) while the good files
of the same dataset land, before and after it. Rows lost = 0 everywhere.

Every case writes real files in a tmp drop folder: a good file before (3 rows), the hostile file, a good
file after (2 rows); then a later good file arrives and must land on the next load (a bad file never
blocks). The outcome of each class goes to the hostile table (``hostile_table.py``).
"""
from __future__ import annotations

import gzip
import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pyarrow.parquet as pq
import pytest

from citystat.connectors import ConnectorOptions, SourceError, SourceSpec, build_connector
from citystat.connectors.file_drop import FIELD_LIMIT
from citystat.landing import Landing
from citystat.quality.reconciliation import reconcile
from data_inventory import load_inventory
from hostile_table import record

SECRET = "S3CR3T-CONTENT"  # planted in every hostile file: no message may show it
HEADER = "id,name,amount\n"


def rows(first: int, count: int, *, newline: str = "\n") -> str:
    return "".join(f"{i},name {i},{i * 10}{newline}" for i in range(first, first + count))


@dataclass
class Case:
    cls: str
    content: bytes
    rows_in: int  # data rows the file's author meant to send
    lands: int | None = None  # rows that must land; None = the file is set aside
    line: int | None = None  # where a set-aside file is named
    field: str | None = None
    reason: str = ""  # a word the reason must contain
    check_values: dict | None = None  # id -> name that must land exactly


def _cases() -> list[Case]:
    secret_row = f"{SECRET} Avery"
    big = "x" * (FIELD_LIMIT + 10)
    return [
        Case("csv_unterminated_quote", (HEADER + "1,a,10\n" + f'2,"{secret_row},20\n' + rows(3, 8)).encode(), 10,
             line=3, field="name", reason="never closes"),
        Case("csv_unbalanced_quote_closed_rows_later",
             (HEADER + "1,a,10\n" + f'2,"{secret_row},20\n' + rows(3, 3) + '6,b",60\n' + rows(7, 2)).encode(), 8,
             line=4, field="name", reason="swallows"),
        Case("csv_multiline_notes_with_commas", (HEADER + '1,"Line one, with comma\nline two\nline three",10\n'
                                                 + rows(2, 2)).encode(), 3, lands=3),
        Case("csv_truncated_inside_quoted_field", (HEADER + rows(1, 4) + f'5,"{secret_row} cut off').encode(), 5,
             line=6, field="name", reason="never closes"),
        Case("csv_ragged_row_extra_field", (HEADER + rows(1, 2) + f"3,{SECRET},30,surplus\n" + rows(4, 2)).encode(), 5,
             line=4, field="#4 (beyond the header)", reason="ragged"),
        Case("csv_half_written_last_row", (HEADER + rows(1, 5) + f"6,{SECRET}").encode(), 6,
             line=7, field="amount", reason="ragged"),
        Case("csv_field_over_limit", (HEADER + "1,a,10\n" + f"2,{SECRET}{big},20\n" + rows(3, 2)).encode(), 4,
             line=3, field="name", reason="field limit"),
        Case("csv_bad_utf8_byte", (HEADER + "1,José,10\n").encode() + f"2,{SECRET}".encode() + b"\xff\xfe,20\n", 2,
             line=3, field="name", reason="not valid UTF-8"),
        Case("csv_bad_byte_after_multiline_value",
             (HEADER + '1,"José\nsecond line",10\n').encode() + f"2,{SECRET}".encode() + b"\xff,20\n", 2,
             line=4, field="name", reason="not valid UTF-8"),
        Case("csv_cp1252_bad_byte", (HEADER + "1,José,10\n2,Zoë,20\n").encode("cp1252") + f"3,{SECRET}".encode() + b"\x81,30\n",
             3, line=4, field="name", reason="Windows-1252"),
        Case("csv_binary_garbage", gzip.compress((HEADER + rows(1, 50) + SECRET).encode()), 50, line=1, reason="byte"),
        Case("csv_empty_file", b"", 0, reason="empty"),
        Case("csv_blank_first_line", ("\n" + HEADER + rows(1, 2)).encode(), 2, line=1, reason="blank"),
        Case("csv_junk_after_closing_quote", (HEADER + f'1,"{SECRET}"x,10\n' + rows(2, 2)).encode(), 3,
             line=2, field="name", reason="after the value"),
        Case("csv_whitespace_only_line", (HEADER + rows(1, 2) + "   \n" + rows(3, 1)).encode(), 3,
             line=4, field="name", reason="ragged"),
        # readable classes: every row lands, values exactly as the file has them
        Case("csv_header_only", HEADER.encode(), 0, lands=0),
        Case("csv_cp1252_export", (HEADER + "1,José,10\n2,Zoë Müller – naïve,20\n").encode("cp1252"), 2, lands=2,
             check_values={"1": "José", "2": "Zoë Müller – naïve"}),
        Case("csv_utf16_with_bom", (HEADER + "1,Zoë,10\n2,Ana,20\n").encode("utf-16"), 2, lands=2,
             check_values={"1": "Zoë"}),
        Case("csv_utf8_bom", codecs_bom() + (HEADER + rows(1, 3)).encode(), 3, lands=3),
        Case("csv_semicolon_delimited", "id;name;amount\n1;a, with comma;10\n2;b;20\n".encode(), 2, lands=2,
             check_values={"1": "a, with comma"}),
        Case("csv_tab_delimited", "id\tname\tamount\n1\ta\t10\n".encode(), 1, lands=1),
        Case("csv_crlf_and_multiline_value", ('id,name,amount\r\n1,"two\r\nlines",10\r\n' + rows(2, 2, newline="\r\n")).encode(),
             3, lands=3, check_values={"1": "two\r\nlines"}),
        Case("csv_blank_lines_between_rows", (HEADER + rows(1, 2) + "\n\n" + rows(3, 2)).encode(), 4, lands=4),
        Case("csv_no_final_newline", (HEADER + rows(1, 2) + "3,c,30").encode(), 3, lands=3),
        Case("csv_quote_inside_unquoted_value", (HEADER + '1,5" pipe,10\n2,b,20\n').encode(), 2, lands=2,
             check_values={"1": '5" pipe'}),
        Case("csv_nul_byte_in_value", (HEADER + "1,a\x00b,10\n2,b,20\n").encode(), 2, lands=2),
    ]


def codecs_bom() -> bytes:
    import codecs
    return codecs.BOM_UTF8


CASES = _cases()
FAST = ConnectorOptions(chunk_rows=1000)


def spec(folder: Path) -> SourceSpec:
    return SourceSpec("hostile", "drop", "csv_drop", str(folder), "*.csv", fields=("id", "name", "amount"))


def landed_rows(landing: Landing) -> list[dict]:
    files = sorted(landing.dataset_dir("hostile", "drop").glob("*.parquet"))
    return [r for f in files for r in pq.read_table(f).to_pylist()]


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.mark.timeout(60)
@pytest.mark.parametrize("case", CASES, ids=[c.cls for c in CASES])
def test_hostile_csv_is_accounted_for_and_never_blocks_good_files(tmp_path, case):
    drops = tmp_path / "drops"
    drops.mkdir()
    (drops / "a_good.csv").write_text(HEADER + rows(100, 3))
    hostile = drops / "m_hostile.csv"
    hostile.write_bytes(case.content)
    (drops / "z_good.csv").write_text(HEADER + rows(200, 2))
    before = sha(hostile)
    landing = Landing(tmp_path / "landing")

    result = landing.load(build_connector(spec(drops), FAST))

    by_file = {f["file"]: f for f in result.files}
    assert by_file["a_good.csv"]["rows"] == 3 and by_file["z_good.csv"]["rows"] == 2  # the good files land
    entry = landing.entries()[-1]
    landed = landed_rows(landing)
    # source = landed: the strict reading's count is in the ledger and equals the rows in the Parquet batch
    assert entry["source_rows"] == entry["rows"] == len(landed) == sum(f["source_rows"] for f in entry["files"])
    messages = json.dumps(result.set_aside) + json.dumps(entry)
    assert SECRET not in messages, "an error printed file content"
    if case.lands is None:
        assert "m_hostile.csv" not in by_file
        (aside,) = result.set_aside
        assert aside["file"] == "m_hostile.csv" and aside["line"] == case.line and aside["field"] == case.field, aside
        assert case.reason.lower() in aside["reason"].lower(), aside
        assert sha(hostile) == before  # set aside intact, in its folder: nothing of it is lost
        hostile_landed = 0
        outcome = f"set aside: line {aside['line'] or '-'}, {aside['field'] or '-'}"
        detail = aside["reason"]
    else:
        assert not result.set_aside, result.set_aside
        assert by_file["m_hostile.csv"]["rows"] == by_file["m_hostile.csv"]["source_rows"] == case.lands
        hostile_landed = case.lands
        values = {r["id"]: r["name"] for r in landed if r["_source_file"] == "m_hostile.csv"}
        for key, name in (case.check_values or {}).items():
            assert values[key] == name
        outcome = f"landed ({by_file['m_hostile.csv']['encoding']}, {by_file['m_hostile.csv']['delimiter']!r})"
        detail = json.dumps({k: by_file["m_hostile.csv"][k] for k in ("source_rows", "lines", "blank_lines")})

    # a later good file lands on the next load; the bad one is named again, still unlanded
    (drops / "zz_later.csv").write_text(HEADER + rows(300, 4))
    again = landing.load(build_connector(spec(drops), FAST))
    assert [f["file"] for f in again.files] == ["zz_later.csv"] and again.rows == 4
    assert [a["file"] for a in again.set_aside] == ([] if case.lands is not None else ["m_hostile.csv"])

    accounted = hostile_landed if case.lands is not None else case.rows_in  # the intact, named file holds them all
    record(case.cls, "file", outcome, case.rows_in, accounted, detail)
    assert case.rows_in - accounted == 0


@pytest.mark.timeout(60)
def test_reconciliation_proves_source_equals_landed_equals_staged_plus_quarantined(tmp_path):
    """The reconciliation check reads the source count from the ledger: a batch whose landed rows differ from
    what the source held fails it, named, even when staging accounts for every landed row."""
    ref = load_inventory().get("ce_vacant", "cases")
    drops = tmp_path / "drops"
    drops.mkdir()
    header = "case_id,owner_phone,opened_date,status\n"
    (drops / "vacant_cases_2026-10-01.csv").write_text(header + "C-1,,2026-10-01,open\nC-2,,2026-10-01,open\n")
    (drops / "vacant_cases_2026-10-02.csv").write_text(header + "C-1,,2026-10-01,closed\nC-3,,2026-10-02,open\n")
    landing = Landing(tmp_path / "landing")
    spec_ = SourceSpec("ce_vacant", "cases", "csv_drop", str(drops), "vacant_cases_*.csv",
                       fields=("case_id", "owner_phone", "opened_date", "status"))
    result = landing.load(build_connector(spec_, FAST))
    assert result.source_rows == result.rows == 4
    parts = [str(p) for p in result.parts]
    con = duckdb.connect()
    con.execute("CREATE SCHEMA staging; CREATE SCHEMA quality")
    raw = f"read_parquet({parts!r})"
    # staging keeps the latest version of each case (C-1 from the second file), quarantines nothing
    con.execute(f"""CREATE TABLE staging.base_ce_vacant__cases AS
        SELECT * FROM {raw} QUALIFY row_number() OVER (PARTITION BY case_id ORDER BY _source_file DESC) = 1""")
    con.execute("CREATE TABLE staging.stg_ce_vacant__cases AS SELECT * FROM staging.base_ce_vacant__cases")
    con.execute("CREATE TABLE quality.quarantine_ce_vacant__cases AS SELECT * FROM staging.base_ce_vacant__cases LIMIT 0")
    good = reconcile(ref, landing, con)
    assert good.holds and "source 4 = landed 4" in good.describe(), good.describe()
    assert good.totals()["staged"] + good.totals()["superseded"] == 4

    # the source held a row more than landed (a row lost before the landing): the check fails, naming the batch
    entries = landing.entries()
    entries[0]["source_rows"] = 5
    landing.ledger_path.write_text("".join(json.dumps(e) + "\n" for e in entries))
    bad = reconcile(ref, landing, con)
    assert not bad.holds and bad.source_mismatches == [entries[0]["load_id"]]
    assert "source counted 5 rows" in bad.describe()


def workbook(path: Path, rows_: list[list], header=("id", "name", "amount")) -> bytes:
    import openpyxl

    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(list(header))
    for row in rows_:
        sheet.append(row)
    book.save(path)
    return path.read_bytes()


XLSX_CASES = ["xlsx_value_beyond_headed_columns", "xlsx_not_a_workbook", "xlsx_blank_spacer_rows"]


@pytest.mark.timeout(60)
@pytest.mark.parametrize("cls", XLSX_CASES)
def test_hostile_xlsx_is_accounted_for_and_never_blocks_good_files(tmp_path, cls):
    drops = tmp_path / "drops"
    drops.mkdir()
    workbook(drops / "a_good.xlsx", [[1, "a", 10], [2, "b", 20]])
    hostile = drops / "m_hostile.xlsx"
    if cls == "xlsx_value_beyond_headed_columns":
        workbook(hostile, [[1, "a", 10], [2, "b", 20, SECRET], [3, "c", 30]])
        rows_in, lands, line, field = 3, None, 3, "#4"
    elif cls == "xlsx_not_a_workbook":
        hostile.write_text(HEADER + rows(1, 3) + SECRET)
        rows_in, lands, line, field = 3, None, None, None
    else:
        workbook(hostile, [[1, "a", 10], [None, None, None], [2, "b", 20], [], [3, "c", 30]])
        rows_in, lands, line, field = 3, 3, None, None
    xspec = SourceSpec("hostile", "drop", "xlsx_drop", str(drops), "*.xlsx", fields=("id", "name", "amount"))
    landing = Landing(tmp_path / "landing")
    result = landing.load(build_connector(xspec, FAST))
    by_file = {f["file"]: f for f in result.files}
    assert by_file["a_good.xlsx"]["rows"] == 2
    entry = landing.entries()[-1]
    assert entry["source_rows"] == entry["rows"] == len(landed_rows(landing))
    assert SECRET not in json.dumps(result.set_aside) + json.dumps(entry)
    if lands is None:
        (aside,) = result.set_aside
        assert (aside["file"], aside["line"], aside["field"]) == ("m_hostile.xlsx", line, field), aside
        outcome, accounted = f"set aside: line {line or '-'}, {field or '-'}", rows_in
    else:
        assert by_file["m_hostile.xlsx"]["rows"] == by_file["m_hostile.xlsx"]["source_rows"] == lands
        outcome, accounted = "landed", lands
    workbook(drops / "zz_later.xlsx", [[9, "z", 90]])
    again = landing.load(build_connector(xspec, FAST))
    assert [f["file"] for f in again.files] == ["zz_later.xlsx"]
    record(cls, "file", outcome, rows_in, accounted, (result.set_aside or [{}])[0].get("reason", ""))


@pytest.mark.timeout(60)
def test_a_file_still_being_written_while_it_lands_commits_nothing_and_lands_whole_on_the_rerun(tmp_path):
    drops = tmp_path / "drops"
    drops.mkdir()
    (drops / "a_good.csv").write_text(HEADER + rows(1, 3))
    growing = drops / "m_growing.csv"
    growing.write_text(HEADER + rows(10, 2))
    landing = Landing(tmp_path / "landing")
    connector = build_connector(spec(drops), FAST)
    extract = connector.extract

    def writer_appends_meanwhile(state):
        for chunk in extract(state):
            if chunk.source_file == "m_growing.csv":
                with open(growing, "a") as f:  # the exporting system is still writing the file
                    f.write(rows(12, 3))
            yield chunk

    connector.extract = writer_appends_meanwhile
    with pytest.raises(SourceError) as failure:
        landing.load(connector)
    assert "m_growing.csv" in str(failure.value) and "changed while it was being read" in str(failure.value)
    assert landing.entries() == [] and landed_rows(landing) == []
    result = landing.load(build_connector(spec(drops), FAST))  # the export is complete now
    assert result.rows == result.source_rows == 3 + 5
    record("csv_file_still_being_written", "file", "load not committed; rerun lands whole", 8, result.rows,
           str(failure.value).split(": ", 1)[-1])
