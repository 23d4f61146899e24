"""The dashboard build's own steps, without Evidence: snapshot copy, timeouts, clear errors, the CLI."""
from __future__ import annotations

import sys
from pathlib import Path

import duckdb
import pytest
from typer.testing import CliRunner

from citystat.dashboards import (
    DashboardBuildError,
    _run_step,
    build_site,
    install_fingerprint,
    tables_read_by_sources,
    write_dashboard_database,
)
from citystat.dashboards_cli import app


def test_source_queries_name_the_tables_to_copy(fixture_snapshot, tmp_path):
    (tmp_path / "a.sql").write_text(
        "with recent as (select * from metrics.kpi_status where value > 1)\n"
        "select * from recent r join inventory.departments d using (department_code)"
    )
    (tmp_path / "b.sql").write_text("select count(*) from datasets")  # unqualified: found by name
    assert tables_read_by_sources(fixture_snapshot, tmp_path) == [
        ("inventory", "datasets"), ("inventory", "departments"), ("metrics", "kpi_status"),
    ]


def test_a_source_query_reading_a_missing_table_names_the_file(fixture_snapshot, tmp_path):
    (tmp_path / "flags.sql").write_text("select * from metrics.flags")
    with pytest.raises(DashboardBuildError, match=r"flags\.sql: table metrics\.flags is not in the snapshot"):
        tables_read_by_sources(fixture_snapshot, tmp_path)


def test_a_source_query_that_does_not_parse_names_the_file(fixture_snapshot, tmp_path):
    (tmp_path / "broken.sql").write_text("selec * from metrics.kpi_status")
    with pytest.raises(DashboardBuildError, match=r"broken\.sql: cannot parse SQL"):
        tables_read_by_sources(fixture_snapshot, tmp_path)


def test_dashboard_copy_has_the_rows_and_the_older_storage_format(fixture_snapshot, tmp_path):
    dest = tmp_path / "site.duckdb"
    write_dashboard_database(fixture_snapshot, dest, [("metrics", "kpi_status")])
    with duckdb.connect(str(fixture_snapshot), read_only=True) as con:
        expected = con.execute("select * from metrics.kpi_status order by all").fetchall()
    with duckdb.connect() as con:
        con.execute(f"attach '{dest}' as site (read_only)")
        con.execute(f"attach '{fixture_snapshot}' as snapshot (read_only)")
        assert con.execute("select * from site.metrics.kpi_status order by all").fetchall() == expected
        assert con.execute("select count(*) from duckdb_tables() where database_name = 'site'").fetchone()[0] == 1
        storage = dict(con.execute(
            "select database_name, tags['storage_version'] from duckdb_databases() where database_name in ('site', 'snapshot')"
        ).fetchall())
    # The snapshot has DuckDB 2.0's format; the copy the one the dashboards' node-api 1.4 opens.
    assert storage == {"snapshot": "v2.0.0+", "site": "v1.4.0+"}


def test_a_hanging_step_is_killed_and_explained(tmp_path):
    command = [sys.executable, "-c", "import time; print('working', flush=True); time.sleep(60)"]
    with pytest.raises(DashboardBuildError, match="did not finish within 1 s") as error:
        _run_step("evidence sources", command, tmp_path, timeout=1, log_path=tmp_path / "step.log")
    assert "working" in str(error.value)  # the last output is part of the message


def test_a_failing_step_reports_its_exit_code_and_output(tmp_path):
    command = [sys.executable, "-c", "import sys; print('no such source'); sys.exit(3)"]
    with pytest.raises(DashboardBuildError, match="exit code 3") as error:
        _run_step("evidence build", command, tmp_path, timeout=30, log_path=tmp_path / "step.log")
    assert "no such source" in str(error.value)


def test_install_fingerprint_follows_the_lockfile_and_patches(tmp_path):
    (tmp_path / "package.json").write_text("{}")
    (tmp_path / "package-lock.json").write_text('{"lockfileVersion": 3}')
    (tmp_path / "patches").mkdir()
    first = install_fingerprint(tmp_path)
    assert install_fingerprint(tmp_path) == first
    (tmp_path / "patches" / "x+1.0.0.patch").write_text("diff")
    second = install_fingerprint(tmp_path)
    assert second != first
    (tmp_path / "package-lock.json").write_text('{"lockfileVersion": 3, "packages": {}}')
    assert install_fingerprint(tmp_path) != second


def test_build_without_a_snapshot_says_what_to_run(tmp_path):
    with pytest.raises(DashboardBuildError, match="does not exist: run the pipeline"):
        build_site(tmp_path / "missing.duckdb", tmp_path / "site")


def test_cli_build_and_serve_fail_clearly(tmp_path):
    runner = CliRunner()
    result = runner.invoke(app, ["build", "--snapshot", str(tmp_path / "missing.duckdb"), "--site", str(tmp_path / "s")])
    assert result.exit_code == 1
    assert "missing.duckdb does not exist" in result.output
    result = runner.invoke(app, ["serve", "--site", str(tmp_path)])
    assert result.exit_code == 1
    assert "is not a built dashboard site" in result.output
