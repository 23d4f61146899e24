"""A commitment recorded in a real browser reaches the warehouse through the pipeline, not around it.

On a COPY of the shared scale-0.1 pipeline run (tests/conftest.py): the workbench is served by `citystat workbench
serve` on the copy's own database (the demo city's, at the inventory's default location) and snapshot; headless
Chromium signs in as the Public Works liaison and the office and records a commitment, a follow-up, an escalation,
a flag raised by hand and its dismissal, and a line of commentary, every free text carrying a stored-XSS attempt.
A row written straight into the workbench file that breaks the inventory's rules stands for a record no screen
should let through; so do two submitted values past the form's checks (140% and month 13), written into the
submissions drop folder as the workbench writes them. Then `citystat run` on the copy. Checked: metrics.flag_actions, metrics.flags,
metrics.kpi_commentary, the quarantine, the memo, the briefing, and the snapshot the dashboards read (their own
source queries run on it; no site build, which costs minutes)."""
import datetime as dt
import re
import sqlite3
from pathlib import Path

import duckdb
import pytest

from workbench_helpers import CHROMIUM, CHROMIUM_ARGS, create_users, serving, sign_in
from pipeline_helpers import citystat, copy_of_pipeline

ROOT = Path(__file__).resolve().parents[2]
XSS = "<script>alert('x')</script><img src=x onerror=alert('y')>[click](javascript:alert('z'))"
COMMIT = "Second pothole crew on nights " + XSS
FOLLOW = "slipped a week " + XSS
ESCALATE = "no crew free before December " + XSS
RAISE = "a small slip that matters " + XSS
DISMISS = "raised on the wrong month " + XSS
COMMENT = "Two crews lent to the storm response " + XSS
RAW = ("<script>", "<img", 'href="javascript:')  # none of these may reach a rendered page


def _run_copy(pipeline, tmp_path) -> tuple[Path, dict]:
    assert pipeline.first_run.returncode in (0, 1), pipeline.first_run.stderr[-2000:]
    copy = tmp_path / "copy"
    return copy, copy_of_pipeline(pipeline.tmp, copy)


def _record_in_browser(base: str, flag: str, shots: Path) -> list[str]:
    from playwright.sync_api import sync_playwright

    dialogs: list[str] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))  # a script that ran would alert
            sign_in(page, base, "paul")
            page.goto(f"{base}/flags/{flag}/")
            page.fill("#id_commit-owner", "Crew chief North")
            page.fill("#id_commit-action", COMMIT)
            page.fill("#id_commit-due_date", "2026-11-30")
            page.click("#form-commit button[type=submit]")
            page.wait_for_selector("text=Commitment recorded")
            page.select_option("#id_follow_up-follow_up", "slipped")
            page.fill("#id_follow_up-reason", FOLLOW)
            page.click("#form-follow_up button[type=submit]")
            page.wait_for_selector("text=Follow-up recorded")
            page.screenshot(path=str(shots / "flag.png"), full_page=True)
            page.goto(f"{base}/flags/raise/")
            page.select_option("#id_kpi_id", "pw_streetlights_within_sla_pct")
            page.fill("#id_period", "2026-10")
            page.fill("#id_reason", RAISE)
            page.click("main form button[type=submit]")
            page.wait_for_selector("text=raised")
            page.goto(f"{base}/commentary/")
            page.select_option("#id_kpi_id", "pw_potholes_within_sla_pct")
            page.fill("#id_period", "2026-10")
            page.fill("#id_comment", COMMENT)
            page.click("#commentary button[type=submit]")
            page.wait_for_selector("text=commentary saved")
            page.screenshot(path=str(shots / "commentary.png"), full_page=True)
            page.click("nav form button")  # sign out
            page.wait_for_url("**/login/")

            sign_in(page, base, "olivia")
            page.goto(f"{base}/flags/{flag}/")
            page.select_option("#id_escalate-escalated_to", "dana")
            page.fill("#id_escalate-reason", ESCALATE)
            page.click("#form-escalate button[type=submit]")
            page.wait_for_selector("text=recorded")
            page.goto(f"{base}/flags/pw_streetlights_within_sla_pct:2026-10:manual/")
            page.fill("#id_dismiss-reason", DISMISS)
            page.click("#form-dismiss button[type=submit]")
            page.wait_for_selector("text=recorded")
            page.goto(f"{base}/")
            page.screenshot(path=str(shots / "flags.png"), full_page=True)
            page.goto(f"{base}/audit/")
            page.screenshot(path=str(shots / "audit.png"), full_page=True)
            for raw in RAW:
                assert raw not in page.content()
        finally:
            browser.close()
    return dialogs


@pytest.mark.browser
@pytest.mark.timeout(900)
def test_browser_commitment_reaches_warehouse_memo_briefing_and_dashboard_data(pipeline, tmp_path):
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: run scripts/install_system_deps.sh")
    copy, env = _run_copy(pipeline, tmp_path)
    snapshot = copy / "warehouse" / "citystat.duckdb"
    with duckdb.connect(str(snapshot), read_only=True) as con:
        # an automated Public Works flag still open, from a month before the memo's, so the briefing looks back at it
        flag = con.execute("""SELECT flag_id FROM metrics.flags WHERE department_code = 'pw' AND kind <> 'manual'
                              AND status IN ('open', 'acknowledged', 'escalated') AND period <= '2026-09'
                              ORDER BY period DESC, flag_id LIMIT 1""").fetchone()
    assert flag, "the demo city should have an open Public Works flag before October 2026"
    flag = flag[0]
    create_users(env, ("paul", "liaison", "pw"), ("olivia", "office", ""), ("dana", "viewer", ""))
    shots = Path(env["CITYSTAT_WAREHOUSE_DIR"]) / "screenshots"
    shots.mkdir(parents=True)
    with serving(env, tmp_path / "serve.log") as base:
        dialogs = _record_in_browser(base, flag, shots)
    assert dialogs == []  # no stored script ran in the workbench

    # a record no screen lets through, written straight into the file: the pipeline quarantines it
    database = copy / "city" / "performance_office" / "workbench.sqlite3"
    with sqlite3.connect(database) as wb:
        wb.execute("""INSERT INTO workbench_commentary (kpi_id, department_code, period, comment, author, written_at)
                      VALUES ('pw_on_time_pct', 'pw', '2026-13', 'month thirteen', 'someone', ?)""",
                   # stored as the workbench stores times (UTC), after the watermark: the landing is incremental
                   [dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M:%S")])
    wb.close()
    # submitted values that break the registry, written as the workbench writes them but past its form's checks:
    # the pipeline lists them with the reason and leaves them out of the KPI series
    drops = copy / "city" / "drops" / "performance_office"
    assert drops.is_dir()
    for name, row in (("over", "lib_patron_satisfaction_pct,lib,2026-10,140.0,,,lena,2026-11-02 09:00:00,source: survey"),
                      ("month", "lib_visits,lib,2026-13,41250.0,,,lena,2026-11-02 09:00:00,source: gate counters")):
        (drops / f"kpi_submissions_workbench_20261102140000_{name}.csv").write_text(
            "kpi_id,department_code,period,value,numerator,denominator,submitted_by,submitted_at,notes\n" + row + "\n")

    run = citystat(env, "run", "--no-dashboards", check=False)
    assert run.returncode in (0, 1), run.stdout[-3000:]  # 1: the demo city's planted defects fail a blocking check
    # the bad row fails the raw suite as a warning (it is quarantined); no blocking check of the workbench fails
    assert not [line for line in run.stdout.splitlines() if "failed check (ERROR)" in line and "perf_workbench" in line]

    with duckdb.connect(str(snapshot), read_only=True) as con:
        actions = con.execute("""SELECT actor, action, status FROM metrics.flag_actions
                                 WHERE flag_id = ? AND source = 'workbench' ORDER BY acted_at, seq""", [flag]).fetchall()
        assert actions == [
            ("paul", f"committed: {COMMIT} (owner Crew chief North, due 2026-11-30)", "acknowledged"),
            ("paul", f"follow-up: slipped: {FOLLOW}", "acknowledged"),
            ("olivia", f"escalated to dana: {ESCALATE}", "escalated"),
        ]
        assert con.execute("SELECT status, commitment, commitment_owner, follow_up FROM metrics.flags WHERE flag_id = ?",
                           [flag]).fetchone() == ("escalated", COMMIT, "Crew chief North", "slipped")
        manual = con.execute("""SELECT kind, status, message FROM metrics.flags
                                WHERE flag_id = 'pw_streetlights_within_sla_pct:2026-10:manual'""").fetchone()
        assert manual == ("manual", "resolved", f"raised by hand: {RAISE}")
        closing = con.execute("""SELECT action FROM metrics.flag_actions WHERE flag_id = 'pw_streetlights_within_sla_pct:2026-10:manual'
                                 ORDER BY acted_at DESC, seq DESC LIMIT 1""").fetchone()
        assert closing == (f"dismissed: {DISMISS}",)
        assert con.execute("""SELECT comment FROM metrics.kpi_commentary
                              WHERE kpi_id = 'pw_potholes_within_sla_pct' AND period = '2026-10'""").fetchone() == (COMMENT,)
        quarantined = con.execute("""SELECT comment, _quarantine_rule FROM quality.quarantine_perf_workbench__commentary""").fetchall()
        assert quarantined == [("month thirteen", "invalid_code")]  # period does not match YYYY-MM
        assert not con.execute("SELECT 1 FROM metrics.kpi_commentary WHERE comment = 'month thirteen'").fetchone()
        refused = con.execute("""SELECT regexp_extract(submission_file, '_(over|month)\\.csv', 1), field, problem, stage
                                 FROM metrics.kpi_submission_problems
                                 WHERE submission_file LIKE '%kpi_submissions_workbench_20261102140000_%'
                                 ORDER BY 1""").fetchall()
        assert [(r[0], r[1], r[3]) for r in refused] == [("month", "invalid_code", "staging"), ("over", "value", "metrics")]
        assert "2026-13" in refused[0][2] and "140 is not a percentage 0-100" in refused[1][2]
        assert not con.execute("""SELECT 1 FROM metrics.kpi_series WHERE kpi_id = 'lib_patron_satisfaction_pct'
                                  AND strftime(period_month, '%Y-%m') = '2026-10' AND value > 100""").fetchone()
        # the dashboards' own source queries on the snapshot: the department page's flags table and the KPI table
        flags_sql = (ROOT / "dashboards/sources/citystat/flags.sql").read_text()
        on_page = con.execute(f"SELECT commitment, commitment_owner, follow_up, actions FROM ({flags_sql}) "
                              "WHERE flag_id = ? AND department_code = 'pw'", [flag]).fetchone()
        assert on_page[:3] == (COMMIT, "Crew chief North", "slipped") and ESCALATE in on_page[3]
        latest_sql = (ROOT / "dashboards/sources/citystat/kpi_latest.sql").read_text()
        assert con.execute(f"SELECT commentary FROM ({latest_sql}) WHERE kpi_id = 'pw_potholes_within_sla_pct'"
                           ).fetchone() == (COMMENT,)

    memo_html = (copy / "warehouse" / "memos" / "memo_2026-10.html").read_text()
    memo_md = (copy / "warehouse" / "memos" / "memo_2026-10.md").read_text()
    briefing = (copy / "warehouse" / "briefings" / "2026-10" / "briefing_2026-10_pw.html").read_text()
    for page in (memo_html, briefing):
        for raw in RAW:
            assert raw not in page
    # the memo shows the commitment, the commentary, the manual flag's reason: as the characters typed
    typed = "&lt;script&gt;alert('x')&lt;/script&gt;&lt;img src=x onerror=alert('y')&gt;[click](javascript:alert('z'))"
    text_of = lambda html_page: re.sub(r"&#x27;|&#39;", "'", html_page)  # noqa: E731
    assert f"Crew chief North: Second pothole crew on nights {typed}" in text_of(memo_html)
    assert f"Two crews lent to the storm response {typed}" in text_of(memo_html)
    assert f"raised by hand: a small slip that matters {typed}" in text_of(memo_html)
    assert "## Commentary from the departments" in memo_md
    # the briefing: the latest word from the last meeting on the flag (the escalation), escaped
    assert f"escalated to dana: no crew free before December {typed}" in text_of(briefing)
