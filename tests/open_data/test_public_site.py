"""The public site the shared pipeline run builds (`publish/public_site`, from the released exports only), checked
in headless Chromium on loopback; a scan of the whole site for personal data and restricted field names; and a held
export's data staying off the site until a named reviewer approves it (on a copy of the run's warehouse)."""
from __future__ import annotations

import re
import shutil
from pathlib import Path

import duckdb
import pytest

from citystat.dashboards import running_site
from citystat.quality.pii_scan import file_texts, find_personal_data, pii_values
from data_inventory import load_inventory
from pipeline_helpers import citystat, launch_chromium

pytestmark = [pytest.mark.slow, pytest.mark.browser, pytest.mark.timeout(2400)]

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts" / "public_site"
HELD = "crm311.service_requests"


def _site(pipeline) -> Path:
    site = pipeline.tmp / "warehouse" / "public_site"
    assert (site / "index.html").is_file(), pipeline.first_run.stdout[-3000:] + pipeline.first_run.stderr[-3000:]
    return site


def _goal(pipeline, goal_id: str) -> dict:
    con = duckdb.connect(str(pipeline.snapshot), read_only=True)
    try:
        cursor = con.execute("SELECT g.*, r.description, r.unit FROM metrics.goal_progress g "
                             "JOIN metrics.kpi_registry r USING (kpi_id) WHERE goal_id = ?", [goal_id])
        return dict(zip([d[0] for d in cursor.description], cursor.fetchone()))
    finally:
        con.close()


def _watched_page(context):
    """A new page and the list its console errors/warnings, page errors, failed requests and HTTP errors go to."""
    page = context.new_page()
    problems: list[str] = []
    page.on("console", lambda m: m.type in ("error", "warning") and problems.append(f"console: {m.text}"))
    page.on("pageerror", lambda e: problems.append(f"page error: {e}"))
    page.on("requestfailed", lambda r: problems.append(f"request failed ({r.failure}): {r.url}"))
    page.on("response", lambda r: r.status >= 400 and problems.append(f"HTTP {r.status}: {r.url}"))
    return page, problems


@pytest.fixture(scope="module")
def browser():
    yield from launch_chromium()


def test_every_public_page_opens_cleanly_and_a_goal_page_shows_progress_pace_and_method(pipeline, browser):
    site = _site(pipeline)
    paths = sorted("/" + p.relative_to(site).as_posix() for p in site.rglob("*.html"))
    # scorecard, goals, measures, open data; a page per goal (7 in the demo city) and per published KPI (8)
    assert len(paths) == 4 + 7 + 8, paths
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    links: set[str] = set()
    with running_site(site) as base:
        for path in paths:
            page, problems = _watched_page(context)
            requests: list[str] = []
            page.on("request", lambda r: requests.append(r.url))
            response = page.goto(base + path, wait_until="load")
            page.wait_for_load_state("networkidle")
            assert response is not None and response.status == 200, path
            assert problems == [], (path, problems)
            assert all(url.startswith(base) or url.startswith("data:") for url in requests), (path, requests)  # offline
            assert page.locator("h1").count() == 1, path
            links |= set(page.eval_on_selector_all("a[href]", "els => els.map(e => e.href)"))
            if path in ("/index.html", "/goals/G-VACANT-1000/index.html", "/kpis/pw_potholes_within_sla_pct/index.html", "/data/index.html"):
                page.screenshot(path=str(ARTIFACTS / f"{path.strip('/').replace('/', '_')}.png"), full_page=True)
            if path == "/goals/G-VACANT-1000/index.html":
                goal_text = page.inner_text("main")
            page.close()
        # every link on the site answers: pages, the released files and data.json
        for url in sorted(links):
            assert url.startswith(base), url
            answer = context.request.get(url)
            assert answer.status == 200, url
    context.close()

    # G-VACANT-1000 counts properties addressed, added up since its start (South Bend's 1,000 in 1,000 days)
    goal = _goal(pipeline, "G-VACANT-1000")
    progress = min(max((goal["current_value"] - goal["baseline"]) / (goal["target_value"] - goal["baseline"]), 0), 1)
    needed_a_month = (goal["target_value"] - goal["baseline"]) / goal["days_total"] * 365.25 / 12
    assert f"{round(100 * progress)}% of the way from the starting point to the target" in goal_text
    assert f"{round(100 * goal['days_elapsed'] / goal['days_total'])}% of the time used" in goal_text
    assert f"Needed from the start to finish on time: +{needed_a_month:.1f} a month" in goal_text
    assert "How it is counted" in goal_text and goal["description"] in goal_text  # what "addressed" means
    assert "added up since" in goal_text
    status_words = {"achieved": "Achieved", "missed": "Missed", "on track": "On track", "off track": "Off track"}
    assert status_words[goal["status"]] in goal_text


STATUS_WORDS = {"On target", "Close to target", "Off target", "No data", "Tracked, no target", "Withheld for privacy",
                "Achieved", "On track", "Off track", "Missed", "Not started"}
FITS = """() => ({scroll: document.scrollingElement.scrollWidth, inner: innerWidth,
    statuses: [...document.querySelectorAll('.status')].map(e => {
        const r = e.getBoundingClientRect(); return {text: e.innerText, left: r.left, right: r.right}; })})"""


@pytest.mark.parametrize("width", [390, 1440, 1920])
def test_every_page_fits_a_phone_a_laptop_and_a_wide_screen(pipeline, browser, width):
    site = _site(pipeline)
    paths = sorted("/" + p.relative_to(site).as_posix() for p in site.rglob("*.html"))
    context = browser.new_context(viewport={"width": width, "height": 900})
    with running_site(site) as base:
        for path in paths:
            page, problems = _watched_page(context)
            response = page.goto(base + path, wait_until="load")
            assert response is not None and response.status == 200 and problems == [], (width, path, problems)
            fits = page.evaluate(FITS)
            assert fits["scroll"] <= fits["inner"] == width, (width, path, fits["scroll"])  # no sideways scrolling
            statuses = page.locator(".status")
            if path not in ("/data/index.html",):  # every other page states a status in words
                assert fits["statuses"], (width, path)
            for i, status in enumerate(fits["statuses"]):
                words = " ".join(status["text"].split()[1:])  # after the shape
                assert words in STATUS_WORDS, (width, path, status["text"])
                assert statuses.nth(i).is_visible() and 0 <= status["left"] and status["right"] <= width, (width, path, status)
            if width in (390, 1920) and path in ("/index.html", "/goals/G-VACANT-1000/index.html"):
                ARTIFACTS.mkdir(parents=True, exist_ok=True)
                name = "scorecard" if path == "/index.html" else "goal"
                page.screenshot(path=str(ARTIFACTS / f"{name}_{width}.png"), full_page=True)
            page.close()
    context.close()


def test_the_public_site_holds_no_personal_data_and_no_restricted_field(pipeline):
    site = _site(pipeline)
    inventory = load_inventory()
    values = pii_values(pipeline.tmp / "warehouse" / "landing", inventory)
    assert len(values) > 100
    files = sorted(p for p in site.rglob("*") if p.is_file())
    texts = list(file_texts(files, site))  # Parquet files read back as rows
    con = duckdb.connect()
    columns = {d[0] for p in files if p.suffix == ".parquet"
               for d in con.execute("DESCRIBE SELECT * FROM read_parquet(?)", [str(p)]).fetchall()}
    con.close()
    assert len(texts) > 20
    # positive control: the same scan finds a landed pii value planted in a page
    planted = sorted(values)[0]
    assert find_personal_data([("control", f"<p>{planted}</p>")], values) != {}
    contacts = {c.email.lower() for ref in inventory.datasets() for c in (ref.dataset.owner, ref.dataset.steward)}
    contacts |= {ref.department.contact.email.lower() for ref in inventory.datasets() if getattr(ref.department, "contact", None)}
    assert find_personal_data(texts, values, allowed_emails=contacts) == {}
    # restricted field names: none is a column of a published file; the ones that can only mean a field
    # (first_name, requester_email, ...) appear nowhere on the site
    restricted = {f for ref in inventory.datasets() for f in ref.restricted_fields}
    public = {f.name for ref in inventory.datasets() for f in ref.dataset.fields if f.sensitivity == "public"}
    assert not columns & (restricted - public), columns & restricted
    distinctive = {f for f in restricted if "_" in f} - public
    assert len(distinctive) > 10
    site_text = "\n".join(text for _, text in texts)
    assert not [f for f in distinctive if re.search(rf"\b{re.escape(f)}\b", site_text)]


def test_a_held_export_stays_off_the_site_until_a_named_reviewer_approves_it(pipeline, tmp_path):
    warehouse = tmp_path / "warehouse"  # a copy: the shared run's warehouse is read by other tests
    warehouse.mkdir()
    shutil.copy2(pipeline.snapshot, warehouse / pipeline.snapshot.name)
    env = {**pipeline.env, "CITYSTAT_WAREHOUSE_DIR": str(warehouse)}
    con = duckdb.connect(str(pipeline.snapshot), read_only=True)
    request_id = con.execute("SELECT min(service_request_id) FROM marts.fct_service_requests").fetchone()[0]
    con.close()
    site = warehouse / "public_site"

    def site_text() -> str:
        return "\n".join(p.read_text(errors="replace") for p in site.rglob("*") if p.is_file() and p.suffix != ".parquet")

    held = citystat(env, "open-data", "build", check=False)
    assert held.returncode == 1 and f"{HELD}: held" in held.stdout, held.stdout + held.stderr
    citystat(env, "public", "build")
    assert not (site / "open-data" / HELD).exists()
    assert str(request_id) not in site_text() and f"open-data/{HELD}/" not in site_text()

    citystat(env, "open-data", "approve", HELD, "--reviewer", "Dana Whitfield")
    released = citystat(env, "open-data", "build")
    assert f"{HELD}: released" in released.stdout
    citystat(env, "public", "build")
    assert (site / "open-data" / HELD / f"{HELD}.csv").is_file()
    assert str(request_id) in (site / "open-data" / HELD / f"{HELD}.csv").read_text()
    data_page = (site / "data" / "index.html").read_text()
    assert f"../open-data/{HELD}/{HELD}.csv" in data_page
    # released, it still names none of the fields the gate removed (the dictionary counts them)
    restricted = load_inventory().get("crm311", "service_requests").restricted_fields
    assert not [f for f in restricted if "_" in f and re.search(rf"\b{f}\b", site_text())]
