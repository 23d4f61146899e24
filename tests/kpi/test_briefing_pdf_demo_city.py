"""The stat-meeting briefing PDF the pipeline writes for the demo city (asset metrics/stat_meeting_briefings, run by
`citystat run` in the shared scale-0.1 pipeline, tests/conftest.py): opened with pypdf, it carries Public Works'
critical KPIs, its open flags and the commitment a liaison logged in the workbench (demo_city/systems/
performance_workbench.py). Reads the run's files and snapshot; changes nothing."""
import duckdb
import pytest

from test_stat_meeting_briefing import pdf_text

pytestmark = pytest.mark.timeout(1800)  # the shared pipeline fixture runs a whole demo city on a loaded machine

MONTH = "2026-10"  # as of 2026-10-31: the meeting on October's data
MANUAL_FLAG = "pw_potholes_within_sla_pct:2026-09:manual"  # raised by hand in the workbench at the September meeting
# Written out from demo_city/systems/performance_workbench.py (the seeded commitment and its follow-up)
COMMITMENT = "two pothole crews on Saturday overtime until the open backlog is under 200"
OWNER_DUE = "owner Daniel Okafor, Director of Public Works, due 29 Oct 2026"


def test_pipeline_writes_a_pdf_briefing_with_kpis_flags_and_the_workbench_commitment(pipeline):
    assert pipeline.first_run.returncode in (0, 1), pipeline.first_run.stderr[-3000:]  # 1: a planted drift elsewhere
    folder = pipeline.tmp / "warehouse" / "briefings" / MONTH
    pdf = folder / f"briefing_{MONTH}_pw.pdf"
    assert pdf.read_bytes().startswith(b"%PDF-")
    assert not list(folder.glob("*.partial"))
    with duckdb.connect(str(pipeline.snapshot), read_only=True) as con:
        departments = {r[0] for r in con.execute("SELECT DISTINCT department_code FROM metrics.kpi_status").fetchall()}
        critical = [r[0] for r in con.execute("""
            SELECT kpi_name FROM metrics.kpi_status WHERE department_code = 'pw' AND critical AND period <= ?
            GROUP BY kpi_name ORDER BY kpi_name""", [MONTH]).fetchall()]
        # open = not resolved and not condition cleared, raised up to the month
        open_flags = con.execute("""
            SELECT count(*) FROM metrics.flags WHERE department_code = 'pw' AND period <= ?
            AND status NOT IN ('resolved', 'condition cleared')""", [MONTH]).fetchone()[0]
        manual = con.execute("SELECT kpi_name, days_open, status FROM metrics.flags WHERE flag_id = ?", [MANUAL_FLAG]).fetchone()
    # one PDF per department with KPI values (and its HTML page beside it)
    assert {p.stem.removeprefix(f"briefing_{MONTH}_") for p in folder.glob("*.pdf")} == departments
    text = pdf_text(pdf)
    assert text.startswith("Public Works") and "data of Oct 2026" in text
    assert 1 <= len(critical) <= 6
    for name in critical:  # critical KPIs always come first
        assert name in text, name
    assert f"Open flags ({open_flags})" in text and open_flags >= 1
    # the flag raised by hand on 2026-09-30, 31 days before the as-of date, acknowledged when the commitment was made
    assert manual == ("Potholes repaired within SLA", 31, "acknowledged")
    assert "Potholes repaired within SLA Sep 2026 acknowledged 31 days" in text
    assert COMMITMENT in text and OWNER_DUE in text and "follow-up: slipped" in text
