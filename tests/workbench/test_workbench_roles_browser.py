"""Each role signs in through the login page of the workbench served by `citystat workbench serve`, in headless
Chromium, and is shown what it can and cannot do; a liaison's crafted requests (made from their signed-in page, with
a valid CSRF token) to another department's flag, submission and commentary URLs are refused over real HTTP; overdue
commitments are highlighted with their age; session fixation, cookie flags and login throttling are checked on the
real server; and every write made here is one audit row with its before and after."""
import datetime as dt
import json
import os
import sqlite3
from zoneinfo import ZoneInfo

import pytest

from pipeline_helpers import launch_chromium
from workbench_helpers import FIRE_FLAG, PASSWORD, PW_FLAG, create_users, serving, sign_in, write_snapshot

CITY = ZoneInfo("America/New_York")  # Riverton's zone: "today" for a due date is the city's date
PINK, DARK_RED = "rgb(253, 226, 225)", "rgb(164, 0, 0)"  # the overdue row and its age, as base.html styles them

pytestmark = [pytest.mark.browser, pytest.mark.timeout(400)]


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("roles")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CITYSTAT_", "DAGSTER_"))}
    env.update(CITYSTAT_WORKBENCH_DB=str(tmp / "served.sqlite3"), CITYSTAT_WAREHOUSE_DIR=str(tmp / "wh"),
               CITYSTAT_SNAPSHOT=str(write_snapshot(tmp / "citystat.duckdb")), CITYSTAT_PERF_DROPS=str(tmp / "drops"),
               CITYSTAT_DATA_ROOTS=str(tmp), CITYSTAT_AS_OF="2026-10-31")
    create_users(env, ("olivia", "office", ""), ("paul", "liaison", "pw"), ("lena", "liaison", "lib"),
                 ("fiona", "liaison", "fire"), ("dana", "viewer", ""))
    with serving(env, tmp / "serve.log") as base:
        yield base, tmp / "served.sqlite3"


@pytest.fixture(scope="module")
def chromium():
    yield from launch_chromium()


@pytest.fixture
def browser_page(chromium):
    context = chromium.new_context(viewport={"width": 1440, "height": 900})
    yield context, context.new_page()
    context.close()


def audit_rows(database) -> list[tuple[str, str, str, str]]:
    with sqlite3.connect(database) as con:
        rows = con.execute("SELECT actor, what, before, after FROM workbench_auditentry ORDER BY id").fetchall()
    con.close()
    return rows


def post_from_page(page, url: str, fields: dict, with_token: bool = True) -> int:
    """A crafted POST sent by the signed-in page itself (its cookies and, unless told not to, the CSRF token of its
    sign-out form); returns the HTTP status (302 for a redirect, i.e. accepted)."""
    return page.evaluate("""async ([url, fields, withToken]) => {
        const token = document.querySelector('input[name=csrfmiddlewaretoken]').value;
        const body = new URLSearchParams(withToken ? {...fields, csrfmiddlewaretoken: token} : fields);
        const response = await fetch(url, {method: 'POST', redirect: 'manual', body});
        return response.type === 'opaqueredirect' ? 302 : response.status;
    }""", [url, fields, with_token])


def status_of(page, url: str) -> int:
    return page.goto(url).status


def test_office_sees_every_department_commits_and_overdue_commitments_age_in_red(served, browser_page):
    base, database = served
    _, page = browser_page
    before = len(audit_rows(database))
    today = dt.datetime.now(CITY).date()
    sign_in(page, base, "olivia")
    assert PW_FLAG in page.content() and FIRE_FLAG in page.content()
    assert page.locator("nav a", has_text="Audit log").count() == 1
    for flag, days_late in ((FIRE_FLAG, 9), (PW_FLAG, 3)):
        page.goto(f"{base}/flags/{flag}/")
        assert page.locator("#form-dismiss").count() == 1 and page.locator("#form-resolve").count() == 1
        page.fill("#id_commit-owner", "Deputy chief")
        page.fill("#id_commit-action", f"fix it ({days_late})")
        page.fill("#id_commit-due_date", (today - dt.timedelta(days=days_late)).isoformat())
        page.click("#form-commit button[type=submit]")
        page.wait_for_selector("text=Commitment recorded")
        assert page.locator("strong.overdue").inner_text() == f"overdue {days_late} days"
    page.goto(f"{base}/")
    rows = page.locator("tr.overdue")
    assert rows.count() == 2
    # most overdue first; each ages visibly: a pink row, its age in dark red beside the due date
    assert FIRE_FLAG in rows.nth(0).inner_text() and "overdue 9 days" in rows.nth(0).inner_text()
    assert "fix it (9)" in rows.nth(0).inner_text() and "owner: Deputy chief" in rows.nth(0).inner_text()
    assert PW_FLAG in rows.nth(1).inner_text() and "overdue 3 days" in rows.nth(1).inner_text()
    assert rows.nth(0).evaluate("r => getComputedStyle(r).backgroundColor") == PINK
    assert rows.nth(0).locator("strong").evaluate("s => getComputedStyle(s).color") == DARK_RED
    # reported done at the next meeting: no longer overdue
    page.goto(f"{base}/flags/{PW_FLAG}/")
    page.select_option("#id_follow_up-follow_up", "done")
    page.click("#form-follow_up button[type=submit]")
    page.wait_for_selector("text=Follow-up recorded")
    page.goto(f"{base}/")
    assert page.locator("tr.overdue").count() == 1 and PW_FLAG not in page.locator("tr.overdue").inner_text()
    page.goto(f"{base}/audit/")
    assert page.locator("table tr").count() >= 4  # header + the three writes

    written = audit_rows(database)[before:]
    assert [(actor, what) for actor, what, _, _ in written] == [
        ("olivia", "flag commit"), ("olivia", "flag commit"), ("olivia", "flag follow_up")]
    commit_pw, follow_up = json.loads(written[1][3]), written[2]
    assert written[0][2] == "" and written[1][2] == ""  # the first step on each flag: nothing before it
    assert (commit_pw["flag_id"], commit_pw["owner"], commit_pw["due_date"]) == (
        PW_FLAG, "Deputy chief", str(today - dt.timedelta(days=3)))
    assert json.loads(follow_up[2]) == commit_pw and json.loads(follow_up[3])["follow_up"] == "done"


def test_liaison_sees_only_own_department_and_crafted_requests_are_refused(served, browser_page):
    base, database = served
    _, page = browser_page
    before = len(audit_rows(database))
    sign_in(page, base, "lena")  # a Library value, which the Public Works liaison must not see
    page.goto(f"{base}/submissions/")
    page.select_option("#id_kpi_id", "lib_patron_satisfaction_pct")
    page.fill("#id_period", "2026-09")
    page.fill("#id_value", "140")
    page.fill("#id_data_source", "patron survey")
    page.click("#submission button[type=submit]")
    assert page.locator(".errorlist").inner_text() == "140 is not a percentage 0-100"  # refused on the form
    page.select_option("#id_kpi_id", "lib_visits")
    page.fill("#id_period", "2026-09")
    page.fill("#id_value", "41250")
    page.fill("#id_data_source", "gate counters")
    page.fill("#id_note", "library-only note")
    page.click("#submission button[type=submit]")
    page.wait_for_selector("text=lib_visits 2026-09 = 41250 saved")
    drops = sorted((database.parent / "drops").glob("kpi_submissions_workbench_*.csv"))  # the pipeline's route
    assert len(drops) == 1 and "\nlib_visits,lib,2026-09,41250.0,,,lena," in drops[0].read_text()
    page.click("nav form button")
    page.wait_for_url("**/login/")

    sign_in(page, base, "paul")
    assert PW_FLAG in page.content() and FIRE_FLAG not in page.content()
    assert page.locator("nav a", has_text="Audit log").count() == 0
    assert status_of(page, f"{base}/flags/{FIRE_FLAG}/") == 404  # not even confirmed to exist
    assert status_of(page, f"{base}/audit/") == 403
    page.goto(f"{base}/submissions/")
    assert "library-only note" not in page.content() and "lib_visits" not in page.content()
    assert page.locator("#id_kpi_id option").all_inner_texts() == []  # Public Works submits no KPI by hand
    page.goto(f"{base}/commentary/")
    options = page.locator("#id_kpi_id option").all_inner_texts()
    assert options and all(o.endswith("(pw)") for o in options)  # only his department's KPIs are offered
    page.goto(f"{base}/flags/{PW_FLAG}/")
    assert page.locator("#form-commit").count() == 1 and page.locator("#form-dismiss").count() == 0
    # crafted requests from paul's signed-in page, each with a valid CSRF token
    crafted = {
        "commit on Fire's flag": (f"/flags/{FIRE_FLAG}/", {"kind": "commit", "commit-owner": "x", "commit-action": "y",
                                                          "commit-due_date": "2026-11-30"}),
        "follow-up on Fire's flag": (f"/flags/{FIRE_FLAG}/", {"kind": "follow_up", "follow_up-follow_up": "done"}),
        "submit a Library value": ("/submissions/", {"kpi_id": "lib_visits", "period": "2026-08", "value": "1",
                                                     "data_source": "x"}),
        "correct Library's value": ("/submissions/", {"kpi_id": "lib_visits", "period": "2026-09", "value": "2",
                                                      "data_source": "x", "correction_reason": "mine now"}),
        "comment on a Fire KPI": ("/commentary/", {"kpi_id": "fire_turnout_p90_sec", "period": "2026-09",
                                                   "comment": "not mine"}),
        "raise a flag on a Fire KPI": ("/flags/raise/", {"kpi_id": "fire_turnout_p90_sec", "period": "2026-09",
                                                         "reason": "r"}),
        "dismiss own flag (office only)": (f"/flags/{PW_FLAG}/", {"kind": "dismiss", "dismiss-reason": "gone"}),
    }
    statuses = {name: post_from_page(page, url, fields) for name, (url, fields) in crafted.items()}
    assert statuses == {"commit on Fire's flag": 404, "follow-up on Fire's flag": 404, "submit a Library value": 403,
                        "correct Library's value": 403, "comment on a Fire KPI": 403,
                        "raise a flag on a Fire KPI": 403, "dismiss own flag (office only)": 403}
    own_comment = {"kpi_id": "pw_potholes_within_sla_pct", "period": "2026-09", "comment": "posted without a token"}
    assert post_from_page(page, "/commentary/", own_comment, with_token=False) == 403  # CSRF: refused, not saved
    # the same token on his own department's KPI is accepted: the refusals above are the department's, not CSRF's
    assert post_from_page(page, "/commentary/", {"kpi_id": "pw_potholes_within_sla_pct", "period": "2026-09",
                                                 "comment": "crews back from storm duty"}) == 302
    written = audit_rows(database)[before:]
    assert [(actor, what) for actor, what, _, _ in written] == [("lena", "submission"), ("paul", "commentary")]
    assert json.loads(written[0][3])["value"] == 41250.0 and written[0][2] == ""
    assert json.loads(written[1][3])["comment"] == "crews back from storm duty"


def test_viewer_reads_every_department_and_comments_but_cannot_act(served, browser_page):
    base, database = served
    _, page = browser_page
    before = len(audit_rows(database))
    sign_in(page, base, "dana")
    assert PW_FLAG in page.content() and FIRE_FLAG in page.content()
    assert page.locator("text=Raise a flag by hand").count() == 0
    page.goto(f"{base}/flags/{FIRE_FLAG}/")
    assert page.locator("form.inline").count() == 0 and "Act" not in page.locator("h2").all_inner_texts()
    page.goto(f"{base}/submissions/")
    assert page.locator("#submission").count() == 0
    assert status_of(page, f"{base}/audit/") == 403
    page.goto(f"{base}/commentary/")
    page.select_option("#id_kpi_id", "fire_turnout_p90_sec")
    page.fill("#id_period", "2026-09")
    page.fill("#id_comment", "ask Fire about the new station's turnout drills")
    page.click("#commentary button[type=submit]")
    page.wait_for_selector("text=commentary saved")
    assert {name: post_from_page(page, url, fields) for name, (url, fields) in {
        "commit": (f"/flags/{PW_FLAG}/", {"kind": "commit", "commit-owner": "x", "commit-action": "y",
                                          "commit-due_date": "2026-11-30"}),
        "submit": ("/submissions/", {"kpi_id": "lib_visits", "period": "2026-07", "value": "1", "data_source": "x"}),
        "raise": ("/flags/raise/", {"kpi_id": "lib_visits", "period": "2026-07", "reason": "r"}),
    }.items()} == {"commit": 403, "submit": 403, "raise": 403}
    assert [(actor, what) for actor, what, _, _ in audit_rows(database)[before:]] == [("dana", "commentary")]


def test_session_fixation_and_cookie_flags_on_the_served_app(served, chromium):
    base, _ = served
    attacker = chromium.new_context()
    victim = chromium.new_context()
    try:
        sign_in(attacker.new_page(), base, "fiona")
        planted = next(c for c in attacker.cookies() if c["name"] == "sessionid")
        victim.add_cookies([{**planted}])  # the attacker's own live session id, planted in the victim's browser
        page = victim.new_page()
        page.goto(f"{base}/login/")
        page.fill("#id_username", "paul")
        page.fill("#id_password", PASSWORD)
        with page.expect_response(lambda r: r.url == f"{base}/login/" and r.request.method == "POST") as posted:
            page.click("button[type=submit]")
        page.wait_for_url(f"{base}/")
        set_cookies = [line for v in posted.value.header_values("set-cookie") for line in v.split("\n")]
        session_header = next(v for v in set_cookies if v.startswith("sessionid="))
        assert {"secure", "httponly", "samesite=strict"} <= {p.strip().lower() for p in session_header.split(";")}
        now_held = {c["name"]: c for c in victim.cookies()}
        assert now_held["sessionid"]["value"] != planted["value"]  # a new session id at sign-in
        for name in ("sessionid", "csrftoken"):
            cookie = now_held[name]
            assert (cookie["secure"], cookie["httpOnly"], cookie["sameSite"]) == (True, True, "Strict"), name
        assert PW_FLAG in page.content()
        # the planted id is not signed in as paul: the attacker's browser is sent to sign in and sees no pw flag
        spy = attacker.new_page()
        spy.goto(f"{base}/")
        assert "/login/" in spy.url and PW_FLAG not in spy.content()
        # signing out ends the session on the server: the old id no longer opens a page
        old = now_held["sessionid"]
        page.click("nav form button")
        page.wait_for_url("**/login/")
        replay = chromium.new_context()
        replay.add_cookies([old])
        replayed = replay.new_page()
        replayed.goto(f"{base}/")
        assert "/login/" in replayed.url
        replay.close()
    finally:
        attacker.close()
        victim.close()


def test_login_throttled_after_five_failures_on_the_served_app(served, browser_page):
    base, _ = served
    _, page = browser_page
    statuses = []
    for password in [f"wrong-{i}" for i in range(5)] + [PASSWORD]:
        page.goto(f"{base}/login/")
        page.fill("#id_username", "fiona")
        page.fill("#id_password", password)
        with page.expect_response(lambda r: r.url == f"{base}/login/" and r.request.method == "POST") as posted:
            page.click("button[type=submit]")
        statuses.append(posted.value.status)
    # four failures are answered with the form; the fifth locks the account, and then even the right password
    assert statuses == [200, 200, 200, 200, 429, 429]
    assert "/login/" in page.url and "locked" in page.content().lower()
