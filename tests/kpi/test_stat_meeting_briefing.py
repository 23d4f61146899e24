"""The stat-meeting briefing (citystat.kpi.briefing, `citystat kpi briefing`) on a small hand-made warehouse.

Public Works has seven KPIs in Oct 2026; which 3-6 "matter", which flags are open and which commitments come from
the last meeting are worked out by hand below from the rows written here.
"""
from __future__ import annotations

import datetime as dt
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from citystat.kpi.briefing import build_briefing

ROOT = Path(__file__).resolve().parents[2]
MONTH = "2026-10"

# kpi_id, name, unit, direction, critical, Oct 2026 value, target, status, score
KPIS = [
    ("pw_on_time_pct", "Requests closed on time", "pct", "up", True, 60.0, 90.0, "red", 0.67),
    ("pw_potholes_pct", "Potholes repaired within SLA", "pct", "up", True, 95.0, 80.0, "green", 1.19),
    ("pw_cost_per_order", "Cost per work order", "usd", "down", False, 1500.0, 1100.0, "red", 0.73),
    ("pw_turnout_sec", "Crew turnout time", "seconds", "down", False, 130.0, 120.0, "yellow", 0.92),
    ("pw_paving_miles", "Lane miles resurfaced", "miles", "up", False, 21.0, 20.0, "green", 1.05),
    ("pw_lights_pct", "Streetlights repaired", "pct", "up", False, 99.0, 90.0, "green", 1.1),
    ("pw_orders", "Work orders received", "count", "none", False, 400.0, None, "gray", None),
]
# flag_id, kpi_id, period, status, days_open
FLAGS = [
    ("pw_on_time_pct:2026-08:red", "pw_on_time_pct", "2026-08", "escalated", 92),   # open, commitment (latest of two)
    ("pw_paving_miles:2026-09:worsened", "pw_paving_miles", "2026-09", "acknowledged", 61),  # open -> KPI chosen
    ("pw_lights_pct:2026-07:red", "pw_lights_pct", "2026-07", "resolved", 31),      # closed, commitment kept
    ("pw_turnout_sec:2026-10:worsened", "pw_turnout_sec", "2026-10", "open", 0),    # open; raised this month
    ("pw_cost_per_order:2026-11:red", "pw_cost_per_order", "2026-11", "open", 0),   # after the month: left out
]
# The workbench's commitment on the August flag (metrics.flags: what, owner, due date, latest follow-up)
WORKBENCH_COMMITMENT = ("night crew on potholes until the backlog is under 200", "Dana Okafor", dt.date(2026, 10, 29), "slipped")
# flag_id, acted_at, actor, action, status
ACTIONS = [
    *[(f[0], dt.datetime(2026, 11, 1, 8), "citystat", "raised: engine", "open") for f in FLAGS],
    ("pw_on_time_pct:2026-08:red", dt.datetime(2026, 9, 10, 10), "j.ruiz", "acknowledged: add a night crew", "acknowledged"),
    ("pw_on_time_pct:2026-08:red", dt.datetime(2026, 10, 8, 10), "j.ruiz", "escalated: <b>budget</b> for 2 crews", "escalated"),
    ("pw_lights_pct:2026-07:red", dt.datetime(2026, 8, 12, 10), "a.chen", "acknowledged: replace the contractor", "acknowledged"),
    ("pw_turnout_sec:2026-10:worsened", dt.datetime(2026, 11, 2, 10), "a.chen", "acknowledged: new dispatch", "acknowledged"),
]


def pdf_text(path: Path) -> str:
    """The text of every page of a PDF, lines joined with spaces (table cells wrap)."""
    from pypdf import PdfReader

    return " ".join(" ".join(page.extract_text().split()) for page in PdfReader(str(path)).pages)


def make_warehouse(path: Path) -> None:
    with duckdb.connect(str(path)) as con:
        con.execute("create schema metrics; create schema inventory")
        con.execute("create table inventory.departments as select 'pw' as department_code, 'Public Works' as department_name")
        con.execute("""create table metrics.kpi_status (kpi_id varchar, kpi_name varchar, department_code varchar,
            period varchar, unit varchar, value double, target double, status varchar, status_reason varchar,
            score double, critical boolean, desired_direction varchar)""")
        for kpi_id, name, unit, direction, critical, value, target, status, score in KPIS:
            for month, v in (("2026-08", value * 0.9), ("2026-09", value * 0.95), (MONTH, value), ("2026-11", 1.0)):
                con.execute("insert into metrics.kpi_status values (?, ?, 'pw', ?, ?, ?, ?, ?, 'why', ?, ?, ?)",
                            [kpi_id, name, month, unit, v, target, status, score, critical, direction])
        con.execute("""create table metrics.flags (flag_id varchar, kpi_id varchar, kpi_name varchar, department_code varchar,
            period varchar, kind varchar, message varchar, status varchar, days_open integer, commitment varchar,
            commitment_owner varchar, commitment_due date, follow_up varchar)""")
        names = {k[0]: k[1] for k in KPIS}
        for flag_id, kpi_id, period, status, days in FLAGS:
            commitment = WORKBENCH_COMMITMENT if flag_id == "pw_on_time_pct:2026-08:red" else (None,) * 4
            con.execute("insert into metrics.flags values (?, ?, ?, 'pw', ?, 'red', 'what happened', ?, ?, ?, ?, ?, ?)",
                        [flag_id, kpi_id, names[kpi_id], period, status, days, *commitment])
        con.execute("""create table metrics.flag_actions (flag_id varchar, acted_at timestamp, actor varchar, action varchar,
            status varchar, source varchar, seq integer)""")
        for seq, row in enumerate(ACTIONS):
            source = "engine" if row[2] == "citystat" else "cli"
            con.execute("insert into metrics.flag_actions values (?, ?, ?, ?, ?, ?, ?)", [*row, source, seq])


@pytest.fixture
def warehouse(tmp_path) -> Path:
    path = tmp_path / "w.duckdb"
    make_warehouse(path)
    return path


def test_briefing_picks_the_kpis_that_matter_open_flags_and_commitments(warehouse):
    with duckdb.connect(str(warehouse), read_only=True) as con:
        briefing = build_briefing(con, "pw", MONTH)
    # critical first (red, then green), then red, yellow, the green one with an open flag; the rest stay out
    assert briefing.kpi_ids == ["pw_on_time_pct", "pw_potholes_pct", "pw_cost_per_order", "pw_turnout_sec",
                                "pw_paving_miles"]
    assert briefing.open_flags == 3            # escalated, acknowledged, open; resolved and November left out
    assert briefing.commitments == 2           # on flags raised up to Sep 2026, by people, latest per flag
    page = briefing.html
    assert "<title>Public Works · stat meeting briefing · Oct 2026</title>" in page
    assert "escalated: &lt;b&gt;budget&lt;/b&gt; for 2 crews" in page        # escaped, and the latest action
    assert "add a night crew" not in page                                    # superseded by the latest
    assert "replace the contractor" in page and "<strong>resolved</strong>" in page
    assert "new dispatch" not in page                                        # flag raised this month
    assert "92 days" in page and "61 days" in page
    # units written out by hand: 1,500 dollars, 130 seconds, 21 miles
    assert ">$1,500<" in page and ">130 s<" in page and ">21 mi<" in page and ">60%<" in page
    assert page.count('data-status="red"') == 2 and 'data-status="yellow"' in page
    assert "Streetlights repaired" not in page.split("<h2>Commitments")[0]  # green, no open flag: not chosen


def test_cli_writes_one_file_per_department_and_fails_in_one_line(warehouse, tmp_path):
    out = tmp_path / "out"
    run = [sys.executable, "-m", "citystat.cli", "kpi", "briefing", "--db", str(warehouse), "--out", str(out)]
    ok = subprocess.run([*run, "--month", MONTH], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert ok.returncode == 0, ok.stderr
    written = out / MONTH / f"briefing_{MONTH}_pw.pdf"
    assert written.exists() and str(written) in ok.stdout
    assert 'data-kpi="pw_on_time_pct"' in written.with_suffix(".html").read_text()
    assert pdf_text(written).count("Requests closed on time") >= 1
    assert sorted(p.name for p in (out / MONTH).iterdir()) == [f"briefing_{MONTH}_pw.html", f"briefing_{MONTH}_pw.pdf"]

    unknown = subprocess.run([*run, "--month", MONTH, "-d", "nope"], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert unknown.returncode == 1
    assert unknown.stderr.strip().count("\n") == 0 and "'nope' has no KPI values" in unknown.stderr
    bad = subprocess.run([*run, "--month", "2026-13"], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert bad.returncode == 1 and "expected YYYY-MM" in bad.stderr


def test_the_pdf_carries_the_kpis_flags_and_the_workbench_commitment(warehouse, tmp_path):
    from citystat.kpi.briefing import write_briefings

    with duckdb.connect(str(warehouse), read_only=True) as con:
        [pdf] = write_briefings(con, MONTH, tmp_path)
    assert pdf == tmp_path / MONTH / f"briefing_{MONTH}_pw.pdf" and pdf.read_bytes().startswith(b"%PDF-")
    text = pdf_text(pdf)
    assert "Public Works" in text and "Oct 2026" in text
    for name, value, target in [("Requests closed on time", "60%", "90%"), ("Cost per work order", "$1,500", "$1,100"),
                                ("Crew turnout time", "130 s", "120 s"), ("Lane miles resurfaced", "21 mi", "20 mi")]:
        assert f"{name}" in text and f"{value} {target}" in text, name
    assert "Open flags (3)" in text and "92 days" in text and "61 days" in text and "0 days" in text
    # the workbench's commitment with its owner, due date and follow-up, and the flag's status now
    assert "night crew on potholes until the backlog is under 200" in text
    assert "owner Dana Okafor, due 29 Oct 2026" in text and "follow-up: slipped" in text and "escalated" in text
    assert "replace the contractor" in text and "resolved" in text     # a commitment logged without the workbench
    assert not list((tmp_path / MONTH).glob("*.partial"))


def test_flag_messages_name_months_as_the_pages_do():
    from citystat.kpi.briefing import months_in_words

    message = "worsened +29.3% in 2026-04 against 2026-03 (threshold 10%); due 2026-10-29; not a month: 2026-13"
    assert months_in_words(message) == ("worsened +29.3% in Apr 2026 against Mar 2026 (threshold 10%); due 2026-10-29; "
                                        "not a month: 2026-13")


@pytest.mark.timeout(300)
def test_a_pdf_is_rendered_again_only_when_its_page_changed(warehouse, tmp_path):
    import dataclasses

    with duckdb.connect(str(warehouse), read_only=True) as con:
        briefing = build_briefing(con, "pw", MONTH)
    pdf = briefing.write(tmp_path)
    page = pdf.with_suffix(".html")
    first = pdf.stat().st_ino  # each write replaces the file by a rename: a new inode
    assert briefing.write(tmp_path) == pdf and pdf.stat().st_ino == first  # the same page: the PDF is kept

    changed = dataclasses.replace(briefing, html=briefing.html.replace("Public Works", "Public Works and Streets"))
    changed.write(tmp_path)
    assert pdf.stat().st_ino != first and pdf.read_bytes().startswith(b"%PDF-")
    assert page.read_text(encoding="utf-8") == changed.html

    # A writer killed between the PDF and its page leaves no page: the next run renders again.
    page.unlink()
    second = pdf.stat().st_ino
    changed.write(tmp_path)
    assert pdf.stat().st_ino != second and page.exists()
