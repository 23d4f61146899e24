"""$CITYSTAT_DUCKDB_MEMORY_LIMIT caps every DuckDB a run opens: the metrics' warehouse connection, the snapshot
and open-data readers, and dbt's own (profiles.yml). Unset means 2 GB; anything but a size is refused by name.
DuckDB reports a limit in MiB: 300 MB = 300,000,000 bytes = 286.1 MiB; 2 GB = 1.86 GiB, which it prints as "1.8 GiB" (worked by hand)."""
from __future__ import annotations

import os
import subprocess

import pytest

from citystat.settings import duckdb_config
from orchestration.lib.dbt_project import DBT_PROJECT_DIR, dbt_executable
from orchestration.lib.resources import warehouse_resource


@pytest.mark.timeout(30)
def test_the_setting_is_a_size_or_refused(monkeypatch):
    monkeypatch.delenv("CITYSTAT_DUCKDB_MEMORY_LIMIT", raising=False)
    assert duckdb_config() == {"memory_limit": "2GB"}
    monkeypatch.setenv("CITYSTAT_DUCKDB_MEMORY_LIMIT", "512MB")
    assert duckdb_config() == {"memory_limit": "512MB"}
    for bad in ("lots", "2GB'; drop table x; --", "-1GB", "2 GB GB", "\u0968GB"):
        monkeypatch.setenv("CITYSTAT_DUCKDB_MEMORY_LIMIT", bad)
        with pytest.raises(ValueError, match=r"\$CITYSTAT_DUCKDB_MEMORY_LIMIT must be a size"):
            duckdb_config()


@pytest.mark.timeout(60)
def test_the_warehouse_connection_of_the_metrics_is_capped(monkeypatch, tmp_path):
    monkeypatch.delenv("CITYSTAT_WAREHOUSE_POSTGRES_URL", raising=False)
    monkeypatch.setenv("CITYSTAT_WAREHOUSE_DIR", str(tmp_path / "warehouse"))
    monkeypatch.setenv("CITYSTAT_DUCKDB_MEMORY_LIMIT", "300MB")
    with warehouse_resource().get_connection() as con:
        assert con.execute("select current_setting('memory_limit')").fetchone()[0] == "286.1 MiB"


@pytest.mark.timeout(180)
def test_dbt_builds_under_the_same_cap(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CITYSTAT_", "DBT_"))}
    env["CITYSTAT_WORK_DB"] = str(tmp_path / "work.duckdb")
    for limit, expected in ((None, "1.8 GiB"), ("300MB", "286.1 MiB")):
        run_env = env if limit is None else {**env, "CITYSTAT_DUCKDB_MEMORY_LIMIT": limit}
        result = subprocess.run(
            [dbt_executable(), "show", "--inline", "select current_setting('memory_limit') as memory_limit",
             "--output", "json", "--project-dir", str(DBT_PROJECT_DIR), "--profiles-dir", str(DBT_PROJECT_DIR),
             "--target-path", str(tmp_path / "target"), "--log-path", str(tmp_path / "logs")],
            cwd=DBT_PROJECT_DIR, env=run_env, capture_output=True, text=True, timeout=150)
        assert result.returncode == 0, result.stdout[-2000:]
        assert f'"memory_limit": "{expected}"' in result.stdout


@pytest.mark.timeout(30)
def test_a_capped_reader_opens_a_file_the_process_already_holds(monkeypatch, tmp_path):
    """DuckDB refuses a second connection to a file with another connect-time configuration (the PII scan of the
    snapshot beside an open reader failed so); open_file sets the cap after connecting instead."""
    import duckdb

    from citystat.warehouse import open_file

    monkeypatch.setenv("CITYSTAT_DUCKDB_MEMORY_LIMIT", "300MB")
    db = tmp_path / "snapshot.duckdb"
    duckdb.connect(str(db)).close()
    with duckdb.connect(str(db), read_only=True) as held:
        with pytest.raises(duckdb.ConnectionException, match="different configuration"):
            duckdb.connect(str(db), read_only=True, config=duckdb_config())
        with open_file(db) as capped:
            assert capped.execute("select current_setting('memory_limit')").fetchone()[0] == "286.1 MiB"
        assert held.execute("select 1").fetchone() == (1,)
