"""The demo city's workbench records (demo_city/systems/performance_workbench.py) reach the warehouse through the
pipeline: landed from the workbench's SQLite file by the inventory's sqlite connector, staged, then into
metrics.flags / metrics.flag_actions / metrics.kpi_commentary, the memo, the stat-meeting briefing and the snapshot
the dashboards read. Reads the shared scale-0.1 pipeline run (tests/conftest.py); changes nothing."""
import datetime as dt
import sqlite3
from pathlib import Path

import duckdb

ROOT = Path(__file__).resolve().parents[2]
MANUAL = "pw_potholes_within_sla_pct:2026-09:manual"  # as_of 2026-10-31: the October meeting discussed September
COMMITMENT = "two pothole crews on Saturday overtime until the open backlog is under 200"


def _snapshot(pipeline):
    # 1: the demo city's planted schema drift fails a blocking check of another source
    assert pipeline.first_run.returncode in (0, 1), pipeline.first_run.stderr[-3000:]
    return duckdb.connect(str(pipeline.snapshot), read_only=True)


def test_workbench_records_land_and_pass_staging(pipeline):
    con = _snapshot(pipeline)
    try:
        # the workbench's rows were staged, none quarantined (quality schema is published)
        quarantined = con.execute("SELECT count(*) FROM quality.quarantine_perf_workbench__flag_actions").fetchone()[0]
        assert quarantined == 0
        actions = con.execute("""SELECT actor, action, status FROM metrics.flag_actions
                                 WHERE flag_id = ? AND source = 'workbench' ORDER BY acted_at""", [MANUAL]).fetchall()
        assert actions == [
            ("lgoldberg", "raised by hand: a four-point slip before the winter freeze matters more than the threshold says",
             "open"),
            ("dokafor", f"committed: {COMMITMENT} (owner Daniel Okafor, Director of Public Works, due 2026-10-29)",
             "acknowledged"),
            ("dokafor", "follow-up: slipped: one crew started; the second waits for a truck back from the shop",
             "acknowledged"),
        ]
        # the workbench stores UTC; the warehouse holds city time: raised at the meeting, 2026-10-08 09:30 in Riverton
        # (EDT, UTC-4), which the file holds as 13:30
        with sqlite3.connect(pipeline.tmp / "city" / "performance_office" / "workbench.sqlite3") as wb:
            stored = wb.execute("SELECT acted_at FROM workbench_flagaction WHERE kind = 'raise'").fetchone()
        wb.close()
        assert stored == ("2026-10-08 13:30:00",)
        assert con.execute("""SELECT acted_at FROM metrics.flag_actions WHERE flag_id = ? AND source = 'workbench'
                              ORDER BY acted_at LIMIT 1""", [MANUAL]).fetchone() == (dt.datetime(2026, 10, 8, 9, 30),)
        flag = con.execute("""SELECT kind, department_code, status, commitment, commitment_owner, commitment_due,
                                     follow_up, days_open FROM metrics.flags WHERE flag_id = ?""", [MANUAL]).fetchone()
        # open since 2026-09-30, as of 2026-10-31: 31 days
        assert flag[:7] == ("manual", "pw", "acknowledged", COMMITMENT, "Daniel Okafor, Director of Public Works",
                            __import__("datetime").date(2026, 10, 29), "slipped")
        assert flag[7] == 31
        commentary = con.execute("SELECT kpi_id, period, comment FROM metrics.kpi_commentary ORDER BY kpi_id").fetchall()
        assert commentary == [("pw_potholes_within_sla_pct", "2026-10", "Storm week closed two crews for four days"),
                              ("pw_streetlights_within_sla_pct", "2026-09", "Vendor parts backorder cleared mid-month")]
        # what the dashboards read: their own source queries run on the snapshot
        flags_sql = (ROOT / "dashboards/sources/citystat/flags.sql").read_text()
        row = con.execute(f"SELECT commitment, follow_up, commitment_due FROM ({flags_sql}) WHERE flag_id = ?",
                          [MANUAL]).fetchone()
        assert row == (COMMITMENT, "slipped", "2026-10-29")
        latest_sql = (ROOT / "dashboards/sources/citystat/kpi_latest.sql").read_text()
        said = con.execute(f"SELECT period_month, commentary FROM ({latest_sql}) WHERE kpi_id = 'pw_potholes_within_sla_pct'"
                           ).fetchone()
        assert str(said[0])[:7] == "2026-10" and said[1] == "Storm week closed two crews for four days"
    finally:
        con.close()


def test_memo_and_briefing_show_commitment_and_commentary(pipeline):
    _snapshot(pipeline).close()
    memo = (pipeline.tmp / "warehouse" / "memos" / "memo_2026-10.md").read_text()
    assert "## Commentary from the departments" in memo
    assert "Storm week closed two crews for four days" in memo
    line = next(x for x in memo.splitlines() if x.startswith(f"| {MANUAL} |"))
    assert "Daniel Okafor, Director of Public Works: two pothole crews" in line and "follow-up: slipped" in line
    briefing = (pipeline.tmp / "warehouse" / "briefings" / "2026-10" / "briefing_2026-10_pw.html").read_text()
    # the commitment from the last meeting: the latest word on the September flag, and its status now
    assert "follow-up: slipped: one crew started" in briefing and "acknowledged" in briefing
