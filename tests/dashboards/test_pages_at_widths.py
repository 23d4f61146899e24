"""The pages a mayor, a stat meeting and a wall screen read, in headless Chromium at 390, 1440 and 1920 px.

Uses the one site build of the session (`built_site`, tests/dashboards/conftest.py). Checks what a reader would
trip over: a table that cuts off the Status column, a KPI named without a link to its own page, a value without
its unit, department tiles below the fold of a 1920x1080 wall screen, a browser tab called "Evidence"; and that the
KPI page shows the registry's definition, its sources, its flags with days open and its caveat.
"""
from __future__ import annotations

import json
import re
from html.parser import HTMLParser

import duckdb
import pytest

from citystat.dashboards import running_site
from test_site import UNIT_SUFFIX, browser, format_value, screenshot  # noqa: F401 (browser: the shared fixture)

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.timeout(3000)]

WIDTHS = {390: 844, 1440: 900, 1920: 1080}
# Written out by hand: the hold-back the demo city plants (a schema-drift file of ce_vacant.cases).
HELD_BACK_DATASET = "ce_vacant.cases"


@pytest.fixture(scope="module")
def site_url(built_site):
    with running_site(built_site.site_dir) as url:
        yield url


def open_at(browser, url: str, width: int):
    context = browser.new_context(viewport={"width": width, "height": WIDTHS[width]})
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(url, wait_until="networkidle")
    page.wait_for_function("() => !document.querySelector('[role=status].animate-pulse')", timeout=30_000)
    return context, page, errors


def kpi_names(con) -> dict[str, str]:
    return dict(con.execute("select kpi_name, kpi_id from metrics.kpi_registry").fetchall())


def pages_to_check(con) -> list[str]:
    department = con.execute("select department_code from metrics.kpi_registry group by 1 order by count(*) desc, 1 limit 1").fetchone()[0]
    kpi = con.execute("select kpi_id from metrics.flags group by 1 order by count(*) desc, 1 limit 1").fetchone()[0]
    return ["/", f"/departments/{department}/", f"/kpi/{kpi}/"]


# Text nodes that name a KPI but are not inside a link to that KPI's page (the page's own heading and the
# breadcrumb excepted).
UNLINKED_KPI_NAMES = """(names) => {
    const out = [];
    const walker = document.createTreeWalker(document.querySelector('article') ?? document.body, NodeFilter.SHOW_TEXT);
    while (walker.nextNode()) {
        const node = walker.currentNode;
        const text = node.textContent.trim();
        if (!(text in names)) continue;
        const el = node.parentElement;
        if (el.closest('h1, nav, title, option, [role=option]')) continue;
        const link = el.closest('a');
        if (!link || link.getAttribute('href') !== '/kpi/' + names[text] + '/') out.push(text);
    }
    return out;
}"""

# Status cells of every table whose right edge lies beyond the visible width (cut off or scrolled away).
CUT_STATUS_CELLS = """() => {
    const width = document.documentElement.clientWidth;
    const cut = [];
    for (const table of document.querySelectorAll('table')) {
        const heads = [...table.querySelectorAll('thead th')].map((th) => th.textContent.trim());
        const column = heads.indexOf('Status');
        if (column < 0) continue;
        for (const row of table.querySelectorAll('tbody tr')) {
            const cell = row.children[column];
            if (!cell) continue;
            const box = cell.getBoundingClientRect();
            const scroller = table.parentElement.getBoundingClientRect();
            if (box.right > Math.min(width, scroller.right) + 1) cut.push(row.dataset.kpi ?? row.dataset.flag ?? row.textContent.slice(0, 40));
        }
    }
    return cut;
}"""


# Charts that run past the visible width, or whose labels are drawn smaller than 11 CSS px (the SVG scales with its
# box: font size in SVG units times the drawing's scale).
CHART_PROBLEMS = """() => {
    // the page's content box clips what runs past it (Evidence's <main> hides horizontal overflow)
    const width = Math.min(document.documentElement.clientWidth, document.querySelector('main')?.getBoundingClientRect().right ?? Infinity);
    const out = [];
    for (const svg of document.querySelectorAll('.kpi-trend svg')) {
        const box = svg.getBoundingClientRect();
        if (box.right > width + 1 || box.left < -1) out.push(`chart ${svg.closest('[data-trend]')?.dataset.trend} spans ${box.left.toFixed(0)}-${box.right.toFixed(0)} px`);
        for (const label of svg.querySelectorAll('text')) {
            const px = parseFloat(getComputedStyle(label).fontSize) * svg.getScreenCTM().a;
            if (px < 11) out.push(`label "${label.textContent}" ${px.toFixed(1)} px`);
        }
    }
    return out;
}"""


@pytest.mark.parametrize("width", sorted(WIDTHS))
def test_status_kpi_links_and_units_at_each_width(browser, site_url, snapshot, width):
    names = kpi_names(snapshot)
    for path in pages_to_check(snapshot):
        context, page, errors = open_at(browser, site_url + path, width)
        try:
            assert page.evaluate(CUT_STATUS_CELLS) == [], f"{path} at {width} px: Status cut off"
            assert page.evaluate(CHART_PROBLEMS) == [], f"{path} at {width} px: chart off screen or labels too small"
            assert page.evaluate(UNLINKED_KPI_NAMES, names) == [], f"{path} at {width} px: KPI named without its link"
            for element in page.locator("[data-unit]").all():
                unit, text = element.get_attribute("data-unit"), element.inner_text().strip()
                if text in ("–", "No data", ""):
                    continue
                if unit == "usd":
                    assert "$" in text, (path, text)
                elif unit in UNIT_SUFFIX:
                    assert UNIT_SUFFIX[unit] in text, (path, unit, text)
            title = page.title()
            assert title != "Evidence" and "Riverton" in title, (path, title)
            assert errors == [], errors
            if path == "/":
                screenshot(page, f"scorecard_{width}")
        finally:
            context.close()


def assert_one_tile_per_department(tiles, snapshot) -> set[str]:
    departments = {r[0] for r in snapshot.execute("select distinct department_code from metrics.kpi_status").fetchall()}
    assert {t.get_attribute("data-tile")[5:] for t in tiles.all()} == departments
    return departments


def assert_above_the_fold(tiles, screen_height: int = 1080) -> None:
    for tile in tiles:
        box = tile.bounding_box()
        bottom = box["y"] + box["height"]
        assert bottom <= screen_height, f'{tile.get_attribute("data-tile")} ends at {bottom:.0f} px'


def test_department_tiles_above_the_fold_on_a_wall_screen(browser, site_url, snapshot):
    context, page, _ = open_at(browser, site_url + "/", 1920)
    try:
        tiles = page.locator('[data-tile^="dept-"]')
        assert_one_tile_per_department(tiles, snapshot)
        assert_above_the_fold(tiles.all())
        # every status comes with its shape: circle, triangle, stop sign, box
        shapes = {b.get_attribute("data-status"): b.get_attribute("data-shape") for b in page.locator(".status-badge").all()}
        assert shapes == {"green": "circle", "yellow": "triangle", "red": "stop", "gray": "box"}
        assert "Oct 2026" in page.locator('[data-field="as-of"]').inner_text()  # CITYSTAT_AS_OF 2026-10-31
    finally:
        context.close()


def test_wall_mode_shows_the_citywide_picture_above_the_fold_without_sidebar(browser, site_url, snapshot):
    context, page, errors = open_at(browser, site_url + "/wall/", 1920)
    try:
        tiles = page.locator('[data-page="wall"] [data-tile^="dept-"]')
        departments = assert_one_tile_per_department(tiles, snapshot)
        picture = [*tiles.all(), *page.locator('[data-tile^="count-"], [data-tile^="cityscore-"]').all()]
        assert len(picture) == len(departments) + 4 + 2  # four status counts, CityScore by month and by quarter
        assert_above_the_fold(picture)
        # no sidebar, no menu bar, nothing wider than the screen
        assert page.evaluate("() => [...document.querySelectorAll('aside, header')].filter((e) => e.offsetWidth > 0).length") == 0
        assert page.evaluate("() => document.documentElement.scrollWidth") <= 1920
        assert "Oct 2026" in page.locator('[data-field="as-of"]').inner_text()
        assert page.locator(".brand").inner_text() == "Riverton CityStat" and page.title() == "Citywide scorecard · Riverton CityStat"
        wall_counts = {s: page.locator(f'[data-tile="count-{s}"] .value').inner_text() for s in ("green", "yellow", "red", "gray")}
        screenshot(page, "wall_1920")
        assert errors == []
    finally:
        context.close()
    # the same numbers as the scorecard
    context, page, _ = open_at(browser, site_url + "/", 1920)
    try:
        assert wall_counts == {s: page.locator(f'[data-tile="count-{s}"] .value').inner_text() for s in wall_counts}
    finally:
        context.close()


class VisibleText(HTMLParser):
    """The text a reader sees on a prerendered page, as (text, inside a table cell) pairs; scripts, styles, the
    title and the KPI page's "definition" (the registry's own words) and "method" (the metric's id, on purpose)
    are left out."""

    SKIPPED = {"script", "style", "title", "code"}
    VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}

    def __init__(self):
        super().__init__()
        self.stack: list[tuple[str, bool]] = []  # (tag, skipped)
        self.texts: list[tuple[str, bool]] = []
        self.cell: list[str] | None = None

    def handle_starttag(self, tag, attrs):
        if tag in self.VOID:
            return
        skipped = tag in self.SKIPPED or dict(attrs).get("data-field") in ("definition", "method")
        self.stack.append((tag, skipped or bool(self.stack and self.stack[-1][1])))
        if tag == "td":
            self.cell = []

    def handle_endtag(self, tag):
        if tag == "td" and self.cell is not None:
            self.texts.append((" ".join("".join(self.cell).split()), True))
            self.cell = None
        while self.stack:
            if self.stack.pop()[0] == tag:
                break

    def handle_data(self, data):
        if self.stack and self.stack[-1][1]:
            return
        self.texts.append((data, False))
        if self.cell is not None:
            self.cell.append(data)


def test_every_page_names_kpis_programmes_and_departments_not_their_codes(built_site, snapshot):
    kpi_ids = {k for (k,) in snapshot.execute("select kpi_id from metrics.kpi_registry").fetchall()}
    programmes = {p for (p,) in snapshot.execute("select program_code from marts.dim_program").fetchall()}
    departments = {d for (d,) in snapshot.execute("select department_code from inventory.departments").fetchall()}
    assert "pw_street_maint" in programmes and "pw" in departments  # the demo city's codes, as a sanity check
    found = []
    for html_file in sorted(built_site.site_dir.rglob("index.html")):
        page = "/" + str(html_file.parent.relative_to(built_site.site_dir)).removeprefix(".")
        if page.startswith(("/settings", "/explore", "/api")):
            continue
        parser = VisibleText()
        parser.feed(html_file.read_text())
        for text, in_cell in parser.texts:
            # a dataset's "system.dataset" id (the inventory page shows it for the data officer) is one word
            words = {w.rstrip(".") for w in re.findall(r"[A-Za-z][A-Za-z0-9_.]*", text)}
            found += [(page, w) for w in sorted(words & (kpi_ids | programmes)) if "_" in w]
            if in_cell and text in departments:
                found.append((page, text))
    assert found == [], found


def test_kpi_page_shows_definition_sources_flags_and_caveat(browser, site_url, snapshot):
    con: duckdb.DuckDBPyConnection = snapshot
    # A KPI whose value comes from the dataset with the held-back file, and one with a "condition cleared" flag.
    held = con.execute("""select kpi_id from inventory.kpi_lineage where system_id || '.' || dataset_id = ?
                          order by kpi_id limit 1""", [HELD_BACK_DATASET]).fetchone()[0]
    cleared = con.execute("select kpi_id from metrics.flags where status = 'condition cleared' order by kpi_id limit 1").fetchone()
    for kpi_id in {held, *(cleared or [])}:
        name, description, unit = con.execute("select kpi_name, description, unit from metrics.kpi_registry where kpi_id = ?",
                                              [kpi_id]).fetchone()
        context, page, errors = open_at(browser, site_url + f"/kpi/{kpi_id}/", 1440)
        try:
            assert page.locator("h1", has_text=name).count() == 1
            assert page.locator('[data-field="definition"]').inner_text().strip() == description
            assert kpi_id in page.locator('[data-field="method"]').inner_text()
            sources = {f"{s}.{d}" for s, d in con.execute(
                "select system_id, dataset_id from inventory.kpi_lineage where kpi_id = ?", [kpi_id]).fetchall()}
            assert {r.get_attribute("data-dataset") for r in page.locator("[data-dataset]").all()} == sources
            flags = dict(con.execute("select flag_id, days_open from metrics.flags where kpi_id = ?", [kpi_id]).fetchall())
            rows = {r.get_attribute("data-flag"): r for r in page.locator("table.flag-table tbody tr").all()}
            assert set(rows) == set(flags)
            for flag_id, days in flags.items():
                assert rows[flag_id].locator('[data-field="days-open"]').inner_text() == f"{days} days"
                if rows[flag_id].get_attribute("data-flag-status") == "condition cleared":
                    assert "not recovered" in rows[flag_id].locator('[data-field="status"]').inner_text()
            months = con.execute("select count(*) from metrics.kpi_status where kpi_id = ? and value is not null", [kpi_id]).fetchone()[0]
            assert page.locator(f'[data-trend="{kpi_id}"] circle[data-point]').count() == months
            if kpi_id == held:
                assert HELD_BACK_DATASET in page.locator('[data-field="caveat"]').inner_text()
            latest = con.execute("select value from metrics.kpi_status where kpi_id = ? order by period_month desc limit 1",
                                 [kpi_id]).fetchone()[0]
            assert page.locator(f'[data-tile="kpi-{kpi_id}"] .value').inner_text() == (
                "No data" if latest is None else format_value(latest, unit))
            assert errors == []
            screenshot(page, f"kpi_{kpi_id}")
        finally:
            context.close()


def test_inventory_page_counts_add_up_and_names_owners_held_back_files_and_kpis(browser, site_url, snapshot, built_site):
    con: duckdb.DuckDBPyConnection = snapshot
    # the load history is this run's: every dataset the landing ledger holds a batch of shows a last load
    ledger = built_site.snapshot.parent / "landing" / "_loads.jsonl"
    landed = {f'{e["system"]}.{e["dataset"]}' for e in map(json.loads, ledger.read_text().splitlines()) if e}
    shown = {f"{s}.{d}" for s, d in con.execute(
        "select system_id, dataset_id from inventory.datasets where last_loaded_at is not null").fetchall()}
    assert landed and shown == landed
    context, page, errors = open_at(browser, site_url + "/inventory/", 1440)
    try:
        total, not_loaded = con.execute("select count(*), count(*) filter (where freshness = 'not automated') "
                                        "from inventory.datasets").fetchone()
        assert page.locator('[data-tile="inv-automated"] .value').inner_text() == f"{total - not_loaded} of {total}"
        assert page.locator('[data-tile="not-automated"] .value').inner_text() == str(not_loaded)
        for system, dataset, owner, steward in con.execute(
                "select system_id, dataset_id, owner, steward from inventory.datasets").fetchall():
            row = page.locator(f'tr[data-dataset="{system}.{dataset}"]')
            assert row.locator('[data-field="owner"]').inner_text().split("\n") == [owner, steward]
            fed = {k for (k,) in con.execute("select kpi_id from inventory.kpi_lineage where system_id = ? and dataset_id = ?",
                                             [system, dataset]).fetchall()}
            links = {a.get_attribute("data-kpi-link") for a in row.locator('[data-field="kpis"] a').all()}
            assert links == fed, f"{system}.{dataset}"
        held = page.locator(f'tr[data-dataset="{HELD_BACK_DATASET}"] [data-field="held-back"]').inner_text()
        assert "schema drift" in held
        assert "@" not in page.locator("table.dataset-table").inner_text()  # owners by name, never their e-mail
        assert errors == []
        screenshot(page, "inventory_1440")
    finally:
        context.close()
