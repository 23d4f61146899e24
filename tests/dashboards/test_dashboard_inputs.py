"""The dashboards' input fingerprint (citystat/dashboard_inputs.py), on the small hand-made snapshot: no Evidence."""
from __future__ import annotations

import shutil

import duckdb

from citystat import dashboard_inputs

READ = [("metrics", "kpi_status"), ("inventory", "departments")]


def _copy(snapshot, tmp_path):
    copy = tmp_path / "citystat.duckdb"
    shutil.copy(snapshot, copy)
    return copy


def test_a_changed_row_changes_only_its_tables_digest(fixture_snapshot, tmp_path):
    snapshot = _copy(fixture_snapshot, tmp_path)
    before = dashboard_inputs.table_digests(snapshot, READ)
    with duckdb.connect(str(snapshot)) as con:
        updated = con.execute("update metrics.kpi_status set value = 45.3 where kpi_id = 'lib_visits' and value = 45.2")
        assert updated.fetchone()[0] == 1
    after = dashboard_inputs.table_digests(snapshot, READ)
    assert after["inventory.departments"] == before["inventory.departments"]
    assert after["metrics.kpi_status"] != before["metrics.kpi_status"]


def test_row_order_and_unread_tables_do_not_count(fixture_snapshot, tmp_path):
    snapshot = _copy(fixture_snapshot, tmp_path)
    before = dashboard_inputs.table_digests(snapshot, READ)
    with duckdb.connect(str(snapshot)) as con:
        # The same rows written back in the opposite order; a table the pages do not read grows.
        con.execute("create table metrics.reordered as select * from metrics.kpi_status order by kpi_id desc, period_month desc")
        con.execute("drop table metrics.kpi_status")
        con.execute("alter table metrics.reordered rename to kpi_status")
        con.execute("insert into marts.fct_unused select 5000")
    assert dashboard_inputs.table_digests(snapshot, READ) == before


def test_a_duplicated_row_or_a_renamed_column_changes_the_digest(fixture_snapshot, tmp_path):
    snapshot = _copy(fixture_snapshot, tmp_path)
    before = dashboard_inputs.table_digests(snapshot, READ)["inventory.departments"]
    with duckdb.connect(str(snapshot)) as con:
        con.execute("insert into inventory.departments select * from inventory.departments where department_code = 'pw'")
    duplicated = dashboard_inputs.table_digests(snapshot, READ)["inventory.departments"]
    with duckdb.connect(str(snapshot)) as con:
        con.execute("delete from inventory.departments")
        con.execute("insert into inventory.departments values ('cs', '311 Customer Service'), ('pw', 'Public Works'), "
                    "('fire', 'Fire'), ('ce', 'Code Enforcement'), ('hs', 'Human Services'), ('lib', 'Library')")
    assert dashboard_inputs.table_digests(snapshot, READ)["inventory.departments"] == before  # same rows again
    with duckdb.connect(str(snapshot)) as con:
        con.execute("alter table inventory.departments rename column department_name to name")
    renamed = dashboard_inputs.table_digests(snapshot, READ)["inventory.departments"]
    assert len({before, duplicated, renamed}) == 3


def test_project_digest_follows_pages_not_build_products(tmp_path):
    project = tmp_path / "dashboards"
    (project / "pages").mkdir(parents=True)
    (project / "pages" / "index.md").write_text("# Scorecard\n")
    for generated in ("node_modules/pkg/index.js", ".evidence/template/x.js", "build/index.html", "static/data/q.parquet",
                      "sources/citystat/citystat_dashboards.duckdb"):
        (project / generated).parent.mkdir(parents=True, exist_ok=True)
        (project / generated).write_text("v1")
    before = dashboard_inputs.project_digest(project)
    for generated in ("node_modules/pkg/index.js", ".evidence/template/x.js", "build/index.html", "static/data/q.parquet",
                      "sources/citystat/citystat_dashboards.duckdb"):
        (project / generated).write_text("v2")
    assert dashboard_inputs.project_digest(project) == before
    (project / "pages" / "index.md").write_text("# Scorecard\n\nNew paragraph.\n")
    assert dashboard_inputs.project_digest(project) != before
    (project / "pages" / "index.md").write_text("# Scorecard\n")
    (project / "components").mkdir()
    (project / "components" / "Tile.svelte").write_text("<div/>")
    assert dashboard_inputs.project_digest(project) != before


def test_what_changed_names_the_reasons_and_fails_closed(fixture_snapshot, tmp_path):
    site = tmp_path / "site"
    current = {"tables": {"metrics.kpi_status": "a", "inventory.departments": "b"},
               "project_sha256": "p", "install_sha256": "i", "city": "Riverton"}
    assert dashboard_inputs.what_changed(site, current) == ["no built site"]
    site.mkdir()
    (site / "index.html").write_text("<html></html>")
    assert dashboard_inputs.what_changed(site, current) == ["no record of the last build"]
    dashboard_inputs.remember(site, current)
    assert dashboard_inputs.what_changed(site, current) == []
    changed = {**current, "tables": {**current["tables"], "metrics.kpi_status": "z", "metrics.flags": "f"},
               "project_sha256": "q"}
    assert dashboard_inputs.what_changed(site, changed) == ["metrics.flags", "metrics.kpi_status", "the dashboards project"]
    dashboard_inputs.record_path(site).write_text("{not json")
    assert dashboard_inputs.what_changed(site, current) == ["no record of the last build"]
    dashboard_inputs.remember(site, current)
    dashboard_inputs.forget(site)
    assert dashboard_inputs.what_changed(site, current) == ["no record of the last build"]
