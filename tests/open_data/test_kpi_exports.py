"""The KPI series and goal-progress exports on a hand-built snapshot: a value resting on fewer than k records is
withheld (in the series, and on the goal that shows it or adds it up, verdict included), a failed build releases
nothing and keeps the previous release whole, definitions come from the registry, an unknown KPI id is a
clear error, and the public site built from the released files shows none of the withheld values."""
from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from citystat.open_data.config import AggregateExport, OpenDataConfig
from citystat.open_data.exports import build_exports
from citystat.open_data.review import ReviewLog
from citystat.public_site.build import PublicSiteError, build_public_site
from data_inventory import load_inventory

pytestmark = pytest.mark.timeout(120)

K = 10
# kpi_id, unit, period, value, numerator, denominator, status
SERIES = [
    ("vac_addressed", "count", "2026-01", 12.0, 12.0, None, "green"),
    ("vac_addressed", "count", "2026-02", 4.0, 4.0, None, "red"),         # a count of 4 < k: withheld
    ("vac_addressed", "count", "2026-03", 0.0, 0.0, None, "red"),         # zero singles nobody out: kept
    ("senior_pct", "pct", "2026-01", 66.7, 2.0, 3.0, "red"),              # 2 of 3 sites: withheld
    ("senior_pct", "pct", "2026-02", 91.7, 11.0, 12.0, "green"),          # 11 of 12: kept
    ("senior_pct", "pct", "2026-03", 87.5, 7.0, 8.0, "yellow"),           # 7 of 8: withheld (the goal's month)
    ("secret_kpi", "pct", "2026-03", 55.5, 55.0, 99.0, "red"),            # not declared: never exported
]
GOALS = [  # goal_id, kpi_id, measure, start_date, current_value, progress, status
    ("G-VAC", "vac_addressed", "cumulative", "2026-01-01", 16.0, 0.16, "off track"),  # 12 + 4 + 0: 4 is inside
    ("G-VAC-SPRING", "vac_addressed", "cumulative", "2026-03-01", 0.0, 0.0, "off track"),  # March only: 0
    ("G-SENIOR", "senior_pct", "level", "2026-01-01", 87.5, 0.75, "on track"),
]


def _snapshot(path: Path) -> None:
    con = duckdb.connect(str(path))
    con.execute("CREATE SCHEMA metrics")
    con.execute("""CREATE TABLE metrics.kpi_registry (kpi_id VARCHAR, kpi_name VARCHAR, department_code VARCHAR,
        strategic_priority VARCHAR, kind VARCHAR, unit VARCHAR, desired_direction VARCHAR, grain VARCHAR,
        yellow_band DOUBLE, red_band DOUBLE, description VARCHAR)""")
    con.executemany("INSERT INTO metrics.kpi_registry VALUES (?, ?, 'ce', 'Safe homes', 'outcome', ?, 'up', 'month', 0.1, 0.2, ?)", [
        ("vac_addressed", "Vacant properties addressed", "count", "Cases that reached status addressed (repaired, demolished or deconstructed)."),
        ("senior_pct", "Senior centres meeting their target", "pct", "Share of sites that met their outcome target. 0-100."),
        ("secret_kpi", "Internal only", "pct", "Not for publication."),
    ])
    con.execute("""CREATE TABLE metrics.kpi_status (kpi_id VARCHAR, kpi_name VARCHAR, department_code VARCHAR,
        period VARCHAR, value DOUBLE, unit VARCHAR, target DOUBLE, desired_direction VARCHAR, status VARCHAR,
        status_reason VARCHAR)""")
    con.execute("""CREATE TABLE metrics.kpi_series (kpi_id VARCHAR, period VARCHAR, period_month DATE, value DOUBLE,
        numerator DOUBLE, denominator DOUBLE, unit VARCHAR)""")
    for kpi, unit, period, value, num, den, status in SERIES:
        con.execute("INSERT INTO metrics.kpi_status VALUES (?, ?, 'ce', ?, ?, ?, 10, 'up', ?, ?)",
                    [kpi, kpi.replace("_", " "), period, value, unit, status, f"{status}; call 555-201-7788"])
        con.execute("INSERT INTO metrics.kpi_series VALUES (?, ?, ?, ?, ?, ?, ?)",
                    [kpi, period, f"{period}-01", value, num, den, unit])
    con.execute("""CREATE TABLE metrics.goal_progress (goal_id VARCHAR, title VARCHAR, kpi_id VARCHAR,
        department_code VARCHAR, measure VARCHAR, goal_type VARCHAR, as_of DATE, start_date DATE, deadline DATE,
        judged_on DATE, baseline DOUBLE, target_value DOUBLE, current_value DOUBLE, progress DOUBLE,
        elapsed_share DOUBLE, days_elapsed INTEGER, days_total INTEGER, days_remaining INTEGER,
        pace_needed_per_day DOUBLE, actual_pace_per_day DOUBLE, pace_to_finish_per_day DOUBLE,
        projected_completion_date DATE, status VARCHAR, final BOOLEAN, caveat VARCHAR)""")
    for goal, kpi, measure, start, current, progress, status in GOALS:
        con.execute("""INSERT INTO metrics.goal_progress VALUES (?, ?, ?, 'ce', ?, 'increase', DATE '2026-03-31',
            ?::DATE, DATE '2026-12-31', DATE '2026-03-31', 0, 100, ?, ?, 0.25, 89, 364, 275,
            0.27, 0.18, 0.3, DATE '2027-06-01', ?, false, NULL)""",
                    [goal, f"Goal {goal}", kpi, measure, start, current, progress, status])
    con.close()


@pytest.fixture
def released(tmp_path):
    snapshot = tmp_path / "citystat.duckdb"
    _snapshot(snapshot)
    root = tmp_path / "open_data"
    config = OpenDataConfig(k=K, kpis=("senior_pct", "vac_addressed"), goals=True)
    results = build_exports(snapshot, load_inventory(), config, root, ReviewLog(tmp_path / "review.json"))
    return root, {r.id: r for r in results}


def test_small_values_are_withheld_in_the_series_and_on_the_goal(released):
    root, results = released
    assert {k: r.status for k, r in results.items()} == {"kpi_series": "released", "strategic_goal_progress": "released"}
    series = pd.read_parquet(root / "kpi_series" / "kpi_series.parquet")
    assert set(series["kpi_id"]) == {"senior_pct", "vac_addressed"}  # secret_kpi was not declared
    shown = {(r.kpi_id, r.period): (None if pd.isna(r.value) else r.value, r.status) for r in series.itertuples()}
    assert shown == {
        ("vac_addressed", "2026-01"): (12.0, "green"), ("vac_addressed", "2026-02"): (None, "suppressed"),
        ("vac_addressed", "2026-03"): (0.0, "red"), ("senior_pct", "2026-01"): (None, "suppressed"),
        ("senior_pct", "2026-02"): (91.7, "green"), ("senior_pct", "2026-03"): (None, "suppressed"),
    }
    assert results["kpi_series"].suppressed_cells == 3
    assert not series["status_reason"].str.contains("555-201-7788").any()  # free text scrubbed
    dictionary = json.loads((root / "kpi_series" / "kpi_series.dictionary.json").read_text())
    assert [d["kpi_id"] for d in dictionary["kpis"]] == ["senior_pct", "vac_addressed"]  # the declared order
    assert dictionary["kpis"][1]["description"].startswith("Cases that reached status addressed")

    goals = pd.read_parquet(root / "strategic_goal_progress" / "strategic_goal_progress.parquet").set_index("goal_id")
    withheld_columns = ["current_value", "progress", "actual_pace_per_day", "pace_to_finish_per_day",
                        "projected_completion_date"]
    # G-SENIOR is a level goal whose latest month (7 of 8 sites) is withheld: its 87.5 must not leak through the
    # goal, nor its verdict ("on track" says 87.5 is past the pace line)
    assert goals.loc["G-SENIOR", withheld_columns].isna().all()
    assert goals.at["G-SENIOR", "status"] == "withheld" and "withheld" in goals.at["G-SENIOR", "method"]
    # G-VAC adds months up: 16 = 12 + 4 + 0. Published beside the series' 12 (Jan) and 0 (Mar), 16 - 12 - 0 gives
    # back February's withheld 4, so the total, progress, pace and verdict are withheld too
    assert goals.loc["G-VAC", withheld_columns].isna().all()
    assert goals.at["G-VAC", "status"] == "withheld"
    assert "A month inside the total rests on fewer than 10 records" in goals.at["G-VAC", "method"]
    assert "addressed (repaired, demolished or deconstructed)" in goals.at["G-VAC", "method"]
    assert "added up since 2026-01-01" in goals.at["G-VAC", "method"]
    # G-VAC-SPRING starts in March: no withheld month is inside its total (0), so it is published whole
    assert goals.at["G-VAC-SPRING", "current_value"] == 0.0 and goals.at["G-VAC-SPRING", "status"] == "off track"
    assert "withheld" not in goals.at["G-VAC-SPRING", "method"]
    assert results["strategic_goal_progress"].suppressed_cells == 2


def test_the_public_site_shows_no_withheld_value(released, tmp_path):
    root, _ = released
    site = build_public_site(root, tmp_path / "site").site_dir
    pages = {p.relative_to(site).as_posix(): p.read_text() for p in site.rglob("*.html")}
    assert {"index.html", "goals/G-SENIOR/index.html", "goals/G-VAC/index.html", "kpis/senior_pct/index.html",
            "kpis/vac_addressed/index.html", "data/index.html"} <= set(pages)
    assert not any("secret" in name.lower() for name in pages)
    text = "\n".join(pages.values())
    for withheld in ("66.7", "87.5", ">4<"):
        assert withheld not in text, withheld
    assert "91.7%" in pages["kpis/senior_pct/index.html"] and "Withheld for privacy" in pages["kpis/senior_pct/index.html"]
    for goal in ("G-SENIOR", "G-VAC"):
        page = pages[f"goals/{goal}/index.html"]
        assert "withheld: it rests on too few records" in page and "Withheld for privacy" in page
        assert "On track" not in page and "Off track" not in page  # no verdict either
    assert "16 (data to" not in pages["goals/G-VAC/index.html"]
    assert "0 (data to 2026-03-31)" in pages["goals/G-VAC-SPRING/index.html"]


def test_an_unknown_kpi_id_is_a_clear_error(tmp_path):
    snapshot = tmp_path / "citystat.duckdb"
    _snapshot(snapshot)
    config = OpenDataConfig(k=K, kpis=("vac_addressed", "no_such_kpi"))
    with pytest.raises(ValueError, match="no_such_kpi not in the KPI registry"):
        build_exports(snapshot, load_inventory(), config, tmp_path / "open_data", ReviewLog(tmp_path / "review.json"))


def _tree(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def test_a_build_that_fails_partway_releases_nothing_and_keeps_the_previous_release_whole(tmp_path):
    snapshot, root = tmp_path / "citystat.duckdb", tmp_path / "open_data"
    _snapshot(snapshot)
    by_unit = AggregateExport(id="kpi_months_by_unit", title="KPI months by unit", table="metrics.kpi_series",
                              rows="kpi_id", columns="unit")
    good = OpenDataConfig(k=K, aggregates=(by_unit,), kpis=("senior_pct", "vac_addressed"), goals=True)
    build_exports(snapshot, load_inventory(), good, root, ReviewLog(tmp_path / "review.json"))
    before, release_before = _tree(root), root.resolve()
    assert json.loads(before["manifest.json"])["exports"][0]["rows"] == 4  # 3 KPIs + Total

    # new data, then a build whose aggregate is written before its KPI list fails (an id not in the registry)
    con = duckdb.connect(str(snapshot))
    con.execute("INSERT INTO metrics.kpi_series VALUES ('new_kpi', '2026-03', DATE '2026-03-01', 5, 5, NULL, 'count')")
    con.close()
    failing = OpenDataConfig(k=K, aggregates=(by_unit,), kpis=("vac_addressed", "no_such_kpi"), goals=True)
    with pytest.raises(ValueError, match="no_such_kpi"):
        build_exports(snapshot, load_inventory(), failing, root, ReviewLog(tmp_path / "review.json"))
    assert root.resolve() == release_before and _tree(root) == before  # files and manifest as they were
    assert [p.name for p in (tmp_path / "open_data.releases").iterdir()] == [release_before.name]  # no partial left

    # a run killed mid-build leaves its unfinished folder behind: it blocks nothing, and the next good build removes it
    killed = tmp_path / "open_data.releases" / "20260101T000000-deadbeef.partial"
    (killed / "kpi_series").mkdir(parents=True)

    # the next good build swaps files and manifest together: the aggregate now counts new_kpi, and so does the manifest
    build_exports(snapshot, load_inventory(), good, root, ReviewLog(tmp_path / "review.json"))
    after = _tree(root)
    assert json.loads(after["manifest.json"])["exports"][0]["rows"] == 5
    assert "new_kpi" in after["kpi_months_by_unit/kpi_months_by_unit.csv"].decode()
    kept = {p.name for p in (tmp_path / "open_data.releases").iterdir()}
    assert kept == {release_before.name, root.resolve().name}  # the replaced release stays for readers mid-copy


def test_a_public_site_build_that_fails_leaves_the_previous_site_whole(released, tmp_path):
    root, _ = released
    site = build_public_site(root, tmp_path / "site").site_dir
    before = {p.relative_to(site).as_posix(): p.read_bytes() for p in site.rglob("*") if p.is_file()}
    assert site.is_symlink() and "index.html" in before  # readers follow one link to one whole site

    # the release loses a file its manifest lists: the next build stops at the copy, halfway through
    release = root.resolve()
    (release / "kpi_series" / "kpi_series.csv").unlink()
    with pytest.raises(PublicSiteError, match="kpi_series.csv is not a released file"):
        build_public_site(root, tmp_path / "site")
    after = {p.relative_to(site).as_posix(): p.read_bytes() for p in site.rglob("*") if p.is_file()}
    assert after == before
    assert not [p for p in (tmp_path / "site.releases").iterdir() if p.name.endswith(".partial")]
