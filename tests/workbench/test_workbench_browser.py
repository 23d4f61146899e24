"""The workbench served by the real command (`citystat workbench serve`) on a free loopback port, driven by headless
Chromium: a liaison signs in, commits to a flag and submits a value; a value that breaks the registry is refused."""
import os

import pytest

from workbench_helpers import CHROMIUM, CHROMIUM_ARGS, PASSWORD, create_users, serving

PW_FLAG = "pw_potholes_within_sla_pct:2026-09:red"


@pytest.fixture
def served(tmp_path, snapshot):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CITYSTAT_", "DAGSTER_"))}
    env.update(CITYSTAT_WORKBENCH_DB=str(tmp_path / "served.sqlite3"), CITYSTAT_WAREHOUSE_DIR=str(tmp_path / "wh"),
               CITYSTAT_SNAPSHOT=str(snapshot), CITYSTAT_PERF_DROPS=str(tmp_path / "drops"), CITYSTAT_DATA_ROOTS=str(tmp_path), CITYSTAT_AS_OF="2026-10-31")
    create_users(env, ("paul", "liaison", "pw"), ("lena", "liaison", "lib"))
    with serving(env, tmp_path / "serve.log") as base:
        yield base, tmp_path


@pytest.mark.browser
@pytest.mark.timeout(300)
def test_liaison_commits_and_submits_in_a_real_browser(served):
    base, tmp_path = served
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: run scripts/install_system_deps.sh")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page()
            page.goto(f"{base}/")
            assert "/login/" in page.url  # signed out: sent to sign in
            page.fill("#id_username", "paul")
            page.fill("#id_password", PASSWORD)
            page.click("button[type=submit]")
            page.wait_for_url(f"{base}/")
            assert PW_FLAG in page.content() and "fire_turnout_p90_sec" not in page.content()
            page.click(f"a[href='/flags/{PW_FLAG}/']")
            page.fill("#id_commit-owner", "Crew chief North")
            page.fill("#id_commit-action", "Add a second pothole crew")
            page.fill("#id_commit-due_date", "2026-11-30")
            page.click("#form-commit button[type=submit]")
            page.wait_for_selector("text=Commitment recorded")
            assert "committed: Add a second pothole crew (owner Crew chief North, due 2026-11-30)" in page.content()
            page.goto(f"{base}/")
            page.screenshot(path=str(tmp_path / "flags.png"), full_page=True)
            assert "Add a second pothole crew" in page.content()
            page.click("nav form button")  # sign out
            page.wait_for_url("**/login/")

            page.fill("#id_username", "lena")
            page.fill("#id_password", PASSWORD)
            page.click("button[type=submit]")
            page.wait_for_url(f"{base}/")
            page.goto(f"{base}/submissions/")
            page.select_option("#id_kpi_id", "lib_patron_satisfaction_pct")
            page.fill("#id_period", "2026-09")
            page.fill("#id_value", "140")
            page.fill("#id_data_source", "patron survey")
            page.click("#submission button[type=submit]")
            assert "140 is not a percentage 0-100" in page.content()
            page.fill("#id_value", "87.5")
            page.click("#submission button[type=submit]")
            page.wait_for_selector("text=lib_patron_satisfaction_pct 2026-09 = 87.5 saved")
            page.screenshot(path=str(tmp_path / "submissions.png"), full_page=True)
        finally:
            browser.close()
    drops = sorted((tmp_path / "drops").glob("kpi_submissions_workbench_*.csv"))
    assert len(drops) == 1 and "lib_patron_satisfaction_pct,lib,2026-09,87.5," in drops[0].read_text()
