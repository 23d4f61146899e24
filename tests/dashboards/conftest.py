"""Fixtures of the dashboard tests.

- ``fixture_snapshot``: a small hand-made snapshot for the build's own steps (which tables to copy, the
  copy's storage format, clear errors), written with the project's Python duckdb and its default storage, so
  the copy Evidence's DuckDB driver (node-api 1.4) can open has to be made exactly as with the real snapshot.
- ``built_site``: the real thing, once per session: the shared scale-0.1 demo city (``pipeline``, tests/conftest.py)
  published and built into a site by the Dagster asset ``dashboards/site``; ``snapshot`` opens its snapshot.
"""
from __future__ import annotations

import subprocess
import sys
import time
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import duckdb
import pytest

DEPARTMENTS = {
    "cs": "311 Customer Service",
    "pw": "Public Works",
    "fire": "Fire",
    "ce": "Code Enforcement",
    "hs": "Human Services",
    "lib": "Library",
}

# kpi_id -> (name, department, target, monthly values for 2026-01..2026-06; None = not reported)
KPIS = {
    "cs_calls_answered_30s": ("311 calls answered within 30 seconds (%)", "cs", 95.0,
                              [96.1, 95.4, 94.0, 96.8, 97.2, 96.5]),
    "cs_first_contact_resolution": ("311 first-contact resolution (%)", "cs", 80.0,
                                    [78.0, 79.5, 81.2, 80.4, 77.9, 76.8]),
    "pw_potholes_1day": ("Potholes fixed within 1 business day (%)", "pw", 80.0,
                         [71.0, 69.5, 66.0, 64.2, 62.5, 60.1]),
    "pw_streetlights_10day": ("Streetlights fixed within 10 business days (%)", "pw", 80.0,
                              [82.0, 83.1, 84.4, 81.7, 85.0, 86.2]),
    "fire_turnout_80s": ("Fire turnout within 80 seconds (%)", "fire", 90.0,
                         [88.0, 87.5, 89.1, 86.4, 85.2, 84.0]),
    "ce_vacant_addressed": ("Vacant properties addressed", "ce", 30.0,
                            [31.0, 33.0, 29.0, 34.0, 36.0, 38.0]),
    "hs_senior_outcomes": ("Senior centre outcome met (%)", "hs", 75.0,
                           [70.0, 68.0, 71.0, None, None, None]),
    "lib_visits": ("Library visits (thousands)", "lib", 40.0,
                   [41.0, 39.0, 42.5, 44.0, 43.1, 45.2]),
}
MONTHS = [date(2026, month, 1) for month in range(1, 7)]
LATEST_MONTH = MONTHS[-1]


def status_for(value: float | None, target: float) -> str:
    """LouieStat bands: green meets the target, yellow within 10%, red further off, gray no data."""
    if value is None:
        return "gray"
    if value >= target:
        return "green"
    if value >= target * 0.9:
        return "yellow"
    return "red"


def write_fixture_snapshot(path: Path) -> None:
    rows = []
    for kpi_id, (name, department, target, values) in KPIS.items():
        for month, value in zip(MONTHS, values):
            rows.append((kpi_id, name, department, month, value, target, status_for(value, target)))
    datasets = [
        ("crm311", "service_requests", "cs", "311 service requests", "open311", "automated", "published"),
        ("pw_mms", "work_orders", "pw", "Work orders", "sqlite", "automated", "published"),
        ("fire_cad", "incidents", "fire", "Fire incidents", "sqlite", "automated", "planned"),
        ("ce_vacant", "cases", "ce", "Vacant property cases", "csv_drop", "automated", "published"),
        ("hs_centres", "centre_monthly", "hs", "Centre monthly report", "xlsx_drop", "manual", "not_planned"),
        ("perf_office", "kpi_submissions", "lib", "KPI submissions", "manual_submission", "manual", "planned"),
    ]
    with duckdb.connect(str(path)) as con:
        con.execute("create schema metrics; create schema inventory; create schema marts; create schema quality")
        con.execute("""
            create table metrics.kpi_status (
                kpi_id varchar, kpi_name varchar, department_code varchar, period_month date,
                value double, target double, status varchar)
        """)
        con.executemany("insert into metrics.kpi_status values (?, ?, ?, ?, ?, ?, ?)", rows)
        con.execute("create table inventory.departments (department_code varchar, department_name varchar)")
        con.executemany("insert into inventory.departments values (?, ?)", list(DEPARTMENTS.items()))
        con.execute("""
            create table inventory.datasets (
                system_id varchar, dataset_id varchar, department_code varchar, title varchar,
                connector varchar, update_method varchar, publication_status varchar)
        """)
        con.executemany("insert into inventory.datasets values (?, ?, ?, ?, ?, ?, ?)", datasets)
        # Present in a real snapshot but unused by the pages: must not be copied for the site.
        con.execute("create table marts.fct_unused as select range as id from range(1000)")


@pytest.fixture(scope="session")
def fixture_snapshot(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("snapshot") / "citystat.duckdb"
    write_fixture_snapshot(path)
    return path


# --- the real site: built by the Dagster asset on the shared demo-city pipeline ------------------------

ROOT = Path(__file__).resolve().parents[2]
SITE_KEY = ["dashboards", "site"]


@dataclass(frozen=True)
class BuiltSite:
    site_dir: Path
    snapshot: Path
    pages: list[str]
    metadata: dict            # the asset materialization's metadata (pages, build_seconds, path, ...)
    run_seconds: float        # the whole `citystat run --select group:publish` (publish + dashboards)


@pytest.fixture(scope="session")
def built_site(pipeline) -> BuiltSite:
    """The one site build of the test session: `citystat run --select group:publish` on the shared scale-0.1
    demo city (publish, then the `dashboards/site` asset), read back from the run's Dagster instance."""
    from dagster import AssetKey, DagsterInstance
    from dagster._core.instance.ref import InstanceRef

    from citystat.dashboards import built_pages

    assert pipeline.snapshot.exists(), "the shared pipeline run published no snapshot:\n" + pipeline.first_run.stdout[-3000:]
    started = time.monotonic()
    result = subprocess.run([sys.executable, "-m", "citystat.cli", "run", "--select", "group:publish"], cwd=ROOT,
                            env=pipeline.env, capture_output=True, text=True, timeout=1800)
    run_seconds = time.monotonic() - started
    assert result.returncode == 0, f"citystat run --select group:publish failed:\n{result.stdout[-4000:]}\n{result.stderr[-4000:]}"
    instance = DagsterInstance.from_ref(InstanceRef.from_dir(pipeline.env["DAGSTER_HOME"]))
    try:
        event = instance.get_latest_materialization_event(AssetKey(SITE_KEY))
    finally:
        instance.dispose()
    assert event is not None, "citystat run --select group:publish did not materialize dashboards/site"
    metadata = {key: value.value for key, value in event.asset_materialization.metadata.items()}
    site_dir = Path(metadata["path"])
    return BuiltSite(site_dir, pipeline.snapshot, built_pages(site_dir), metadata, round(run_seconds, 1))


@pytest.fixture(scope="session")
def snapshot(built_site):
    with duckdb.connect(str(built_site.snapshot), read_only=True) as con:
        yield con
