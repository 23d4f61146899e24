"""The Dagster UI in a real browser: on a copy of the shared demo city, the lineage's "Materialize all" launches ONE
run of everything (no backfill or partition dialog), the run succeeds, and its snapshot equals the one `citystat run`
published for the same city (the session `pipeline` fixture): the UI gives the CLI's result.

Needs headless chromium (`/usr/bin/chromium`, Debian package `chromium`) and Playwright for Python.
"""
import os
import re
import shutil
import time
from pathlib import Path

import duckdb
import pytest

from dagster_dev import DagsterDev
from pipeline_helpers import mart_digest, pipeline_env

pytestmark = [pytest.mark.slow, pytest.mark.browser, pytest.mark.timeout(3000)]

CHROMIUM = os.environ.get("CITYSTAT_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
RUN_TIMEOUT_SECONDS = 2400  # the run includes the Evidence build (minutes on a loaded 2-core machine)

RUNS_QUERY = """{ runsOrError(limit: 50) { ... on Runs { results { runId status jobName
  assetSelection { path } tags { key value } } } } }"""


def runs(dev: DagsterDev) -> list[dict]:
    return dev.graphql(RUNS_QUERY)["runsOrError"]["results"]


def launched_by_a_person(run: dict) -> bool:
    """Not started by a sensor or schedule (the file-drop sensor lands a fresh city's drops on its own)."""
    return not any(tag["key"] in ("dagster/sensor_name", "dagster/schedule_name", "dagster/backfill")
                   for tag in run["tags"])


@pytest.fixture
def browser():
    playwright_api = pytest.importorskip("playwright.sync_api")
    if not Path(CHROMIUM).exists():
        pytest.skip(f"no chromium at {CHROMIUM} (apt-get install chromium)")
    with playwright_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


def test_materialize_all_in_the_ui_gives_the_snapshot_of_citystat_run(pipeline, tmp_path, browser):
    shutil.copytree(pipeline.tmp / "city", tmp_path / "city")  # the city only: a fresh warehouse and instance
    env = pipeline_env(tmp_path)
    env["CITYSTAT_AUTOMATE_DASHBOARDS"] = "0"
    dev = DagsterDev(env, tmp_path / "dagster_dev.log")
    try:
        dev.start()
        dev.wait_loaded()
        page = browser.new_page(viewport={"width": 1600, "height": 1000})
        page.goto(f"{dev.url}/asset-groups", wait_until="domcontentloaded")
        skip = page.get_by_role("button", name="Skip")  # the community sign-up dialog of a fresh instance
        try:
            skip.click(timeout=15000)
        except Exception:
            pass
        button = page.get_by_role("button", name=re.compile(r"Materialize all \(\d+\)")).first
        button.wait_for(timeout=60000)
        total = int(re.search(r"\((\d+)\)", button.inner_text()).group(1))
        before = {run["runId"] for run in runs(dev)}
        button.click()

        deadline = time.monotonic() + 60
        mine = []
        while time.monotonic() < deadline and not mine:
            mine = [r for r in runs(dev) if r["runId"] not in before and launched_by_a_person(r)]
            time.sleep(1)
        assert len(mine) == 1, f"Materialize all launched {len(mine)} runs: {mine}"
        assert not page.get_by_role("dialog").count(), "a dialog (backfill/partitions/launchpad) opened"
        run = mine[0]
        assert len(run["assetSelection"]) == total  # one run of everything, not a backfill

        page.goto(f"{dev.url}/runs/{run['runId']}", wait_until="domcontentloaded")
        deadline = time.monotonic() + RUN_TIMEOUT_SECONDS
        status = run["status"]
        while time.monotonic() < deadline and status not in ("SUCCESS", "FAILURE", "CANCELED"):
            time.sleep(10)
            status = next(r["status"] for r in runs(dev) if r["runId"] == run["runId"])
        assert status == "SUCCESS", f"run {run['runId']} ended {status}\n{dev.log_tail()}"
        page.reload(wait_until="domcontentloaded")
        page.get_by_text("Success").first.wait_for(timeout=60000)

        snapshot = tmp_path / "warehouse" / "citystat.duckdb"
        with duckdb.connect(str(snapshot), read_only=True) as con:
            marts = {name for (name,) in con.execute(
                "SELECT table_name FROM information_schema.tables WHERE table_schema = 'marts'").fetchall()}
            assert {"fct_service_requests", "fct_kpi_submissions", "kpi_values"} <= marts
            assert con.execute("SELECT count(*) FROM marts.fct_service_requests").fetchall()[0][0] > 0
        lineage = ("_load_id", "_extracted_at")  # when each build landed the data: differs between any two builds
        assert mart_digest(snapshot, lineage) == mart_digest(pipeline.snapshot, lineage)
    finally:
        dev.stop()
