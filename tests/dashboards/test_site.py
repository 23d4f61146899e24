"""The dashboard site, built offline from a snapshot and checked in headless Chromium.

One module-scoped build (real `npm` install, patched Evidence, real DuckDB) serves every test; pages
are opened in Debian's Chromium through Playwright, numbers on the page are compared with the
snapshot, and screenshots land in test-artifacts/dashboards/ for a person to look at.
"""
from __future__ import annotations

import json
import time
from pathlib import Path

import duckdb
import pytest

from orchestration.dashboards import (
    DASHBOARD_DATABASE,
    DASHBOARDS_DIR,
    SOURCE_NAME,
    SiteBuild,
    build_site,
    ensure_node_modules,
    running_site,
)

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts" / "dashboards"
BENCHMARK_REPORT = ROOT / "benchmarks" / "out" / "dashboards.json"
CHROMIUM = Path("/usr/bin/chromium")
# Chromium on a machine with no internet: no background calls home (see shared TOOLCHAIN notes).
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
    "--disable-component-update", "--disable-sync",
]
STATUS_LABELS = {"green": "Green", "yellow": "Yellow", "red": "Red", "gray": "Gray"}


def format_number(value: float | None) -> str:
    """Same rule as dashboards/components/status.js formatNumber: up to one decimal, thousands separators."""
    if value is None:
        return "–"
    text = f"{value:,.1f}"
    return text[:-2] if text.endswith(".0") else text


@pytest.fixture(scope="module")
def site(fixture_snapshot: Path, tmp_path_factory) -> SiteBuild:
    build = build_site(fixture_snapshot, tmp_path_factory.mktemp("site") / "dashboards")
    print(f"\ndashboard build seconds: {build.seconds}, peak memory {build.peak_child_memory_mb} MB")
    return build


@pytest.fixture(scope="module")
def snapshot(fixture_snapshot: Path):
    with duckdb.connect(str(fixture_snapshot), read_only=True) as con:
        yield con


@pytest.fixture(scope="module")
def browser():
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: run scripts/install_system_deps.sh (installs Debian's chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


class PageProblems:
    """Console errors, uncaught exceptions and failed requests seen while a page was open."""

    def __init__(self, page) -> None:
        self.items: list[str] = []
        page.on("console", lambda message: message.type == "error" and self.items.append(f"console: {message.text}"))
        page.on("pageerror", lambda error: self.items.append(f"page error: {error}"))
        page.on("response", lambda response: response.status >= 400 and self.items.append(
            f"HTTP {response.status}: {response.url}"))
        # Evidence stops reading a prerendered query's body once it has the Arrow table, which
        # Chromium reports as ERR_ABORTED after a 200; every other failure is a real one.
        page.on("requestfailed", lambda request: request.failure != "net::ERR_ABORTED" and self.items.append(
            f"request failed ({request.failure}): {request.url}"))


@pytest.fixture
def open_page(browser, site):
    """Opens a site page and waits until it is interactive; returns (page, problems, timings).

    timings: ``load`` = the load event (the prerendered numbers are on screen), ``ready`` = network
    idle and no loading placeholder left (DuckDB-Wasm started, the Arrow tables loaded, charts drawn).
    """
    context = browser.new_context(viewport={"width": 1280, "height": 1000})
    with running_site(site.site_dir) as base_url:
        def open_(path: str):
            page = context.new_page()
            problems = PageProblems(page)
            started = time.monotonic()
            page.goto(base_url + path, wait_until="load")
            loaded = time.monotonic() - started
            page.wait_for_load_state("networkidle")
            # Evidence draws a pulsing "Loading..." placeholder until a component has its data.
            page.wait_for_function("() => !document.querySelector('[role=status].animate-pulse')", timeout=30_000)
            return page, problems, {"load": round(loaded, 3), "ready": round(time.monotonic() - started, 3)}

        yield open_
    context.close()


def screenshot(page, name: str) -> None:
    if page.locator("[_echarts_instance_]").count():
        page.wait_for_timeout(1500)  # let ECharts finish its drawing animation
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def latest_kpis(snapshot, department: str | None = None) -> list[tuple]:
    where = "and department_code = ?" if department else ""
    return snapshot.execute(
        f"""select kpi_id, kpi_name, department_code, value, target, status from metrics.kpi_status
            where period_month = (select max(period_month) from metrics.kpi_status) {where}
            order by kpi_name""",
        [department] if department else [],
    ).fetchall()


def test_build_copies_only_the_tables_the_pages_read(site, fixture_snapshot):
    assert site.tables == ["inventory.datasets", "inventory.departments", "metrics.kpi_status"]
    # The private copy Evidence's node-api 1.4 driver read (the build got its rows, so it opened it).
    copy = DASHBOARDS_DIR / "sources" / SOURCE_NAME / DASHBOARD_DATABASE
    with duckdb.connect(str(copy), read_only=True) as con:
        tables = {row[0] for row in con.execute("select schema_name || '.' || table_name from duckdb_tables()").fetchall()}
    assert tables == set(site.tables)
    assert "marts.fct_unused" not in tables
    # Each query result is published twice: Parquet (Evidence) and Arrow IPC (the offline browser path).
    data = site.site_dir / "data" / SOURCE_NAME
    for query in ("kpi_status", "departments", "datasets"):
        assert len(list((data / query).glob("*/*.parquet"))) == 1
        assert len(list((data / query).glob("*/*.arrow"))) == 1


def test_node_install_is_skipped_when_the_lockfile_is_unchanged(site):
    started = time.monotonic()
    assert ensure_node_modules() is False
    assert time.monotonic() - started < 10


def test_every_page_loads_without_errors(site, open_page):
    expected = {"/", "/departments/", "/inventory/", "/kpis/"} | {
        f"/departments/{code}/" for code in ("cs", "pw", "fire", "ce", "hs", "lib")
    }
    assert expected <= set(site.pages)
    timings = {}
    for path in site.pages:
        page, problems, timings[path] = open_page(path)
        screenshot(page, "page" + path.rstrip("/").replace("/", "_") if path != "/" else "page_index")
        assert page.locator("h1").count() >= 1, f"{path} rendered no heading"
        assert "Error in Query" not in page.inner_text("body"), path
        assert problems.items == [], f"{path}: {problems.items}"
        page.close()
    BENCHMARK_REPORT.parent.mkdir(parents=True, exist_ok=True)
    BENCHMARK_REPORT.write_text(json.dumps({
        "snapshot": "tests/dashboards fixture",
        "build_seconds": site.seconds,
        "build_peak_memory_mb": site.peak_child_memory_mb,
        "page_seconds": timings,
        "page_load_seconds_max": max(t["load"] for t in timings.values()),
        "page_ready_seconds_max": max(t["ready"] for t in timings.values()),
    }, indent=2) + "\n")
    print(f"\ndashboard page seconds (load / ready): {timings}")


def test_scorecard_tiles_match_the_snapshot(open_page, snapshot):
    page, problems, _ = open_page("/")
    latest = latest_kpis(snapshot)
    for status, label in STATUS_LABELS.items():
        tile = page.locator(f'[data-tile="count-{status}"]')
        expected = sum(1 for row in latest if row[5] == status)
        assert tile.locator(".value").inner_text() == str(expected)
        assert tile.get_attribute("data-status") == status
        assert label in tile.inner_text()  # a colour never appears without its word

    severity = ["red", "yellow", "green", "gray"]
    for department in {row[2] for row in latest}:
        statuses = [row[5] for row in latest if row[2] == department]
        worst = next(status for status in severity if status in statuses)
        tile = page.locator(f'[data-tile="dept-{department}"]')
        assert tile.get_attribute("data-status") == worst, department
        assert STATUS_LABELS[worst] in tile.inner_text()
        assert tile.get_attribute("href") == f"/departments/{department}/"

    attention = page.locator("table.kpi-table tbody tr")
    off_target = {row[0]: row for row in latest if row[5] in ("red", "yellow")}
    assert attention.count() == len(off_target)
    for row in attention.all():
        kpi = off_target[row.get_attribute("data-kpi")]
        assert row.locator('[data-field="value"]').inner_text() == format_number(kpi[3])
    screenshot(page, "scorecard")
    assert problems.items == []


def test_department_page_shows_each_kpi_against_target(open_page, snapshot):
    page, problems, _ = open_page("/departments/pw/")
    kpis = latest_kpis(snapshot, "pw")
    assert page.locator("[data-tile^='kpi-']").count() == len(kpis)
    for kpi_id, _name, _dept, value, target, status in kpis:
        tile = page.locator(f'[data-tile="kpi-{kpi_id}"]')
        assert tile.get_attribute("data-status") == status
        assert tile.locator(".value").inner_text() == format_number(value)
        assert f"Target {format_number(target)}" in tile.inner_text()
    assert page.locator("h1", has_text="Public Works").count() == 1
    assert page.locator("[_echarts_instance_]").count() == 1  # the trend chart drew
    screenshot(page, "department_pw")
    assert problems.items == []


def test_department_dropdown_filters_the_kpi_table(open_page, snapshot):
    """The live path: the query re-runs in the browser's DuckDB-Wasm on the Arrow IPC files."""
    page, problems, _ = open_page("/kpis/")

    def shown() -> dict[str, str]:
        rows = page.locator("table.kpi-table tbody tr")
        return {row.get_attribute("data-kpi"): row.locator('[data-field="value"]').inner_text() for row in rows.all()}

    def expected(department: str) -> dict[str, str]:
        return {row[0]: format_number(row[3]) for row in latest_kpis(snapshot, department)}

    assert shown() == expected("pw")  # the dropdown's default
    page.get_by_role("combobox", name="Department").click()
    page.get_by_role("option", name="Fire", exact=True).click()
    page.keyboard.press("Escape")
    page.wait_for_function(
        "ids => [...document.querySelectorAll('table.kpi-table tbody tr')].map(r => r.dataset.kpi).join() === ids",
        arg=",".join(expected("fire")),
        timeout=20_000,
    )
    assert shown() == expected("fire")
    screenshot(page, "kpi_explorer_fire")
    assert problems.items == []
