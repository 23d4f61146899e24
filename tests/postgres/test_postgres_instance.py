"""The Dagster instance on PostgreSQL: with CITYSTAT_DAGSTER_POSTGRES_URL set, a real `citystat run` records its run,
its event log and its schedule state in that database, and nothing in SQLite files under DAGSTER_HOME."""
import psycopg
import pytest

from pipeline_helpers import citystat, open_instance, small_city

pytestmark = pytest.mark.slow


@pytest.mark.timeout(900)
def test_citystat_run_records_its_run_in_the_postgres_instance(tmp_path, postgres_url, monkeypatch):
    env = small_city(tmp_path, scale="0.02")
    env["CITYSTAT_DAGSTER_POSTGRES_URL"] = postgres_url

    result = citystat(env, "run", "--no-dashboards", check=False)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]

    config = (tmp_path / "dagster_home" / "dagster.yaml").read_text()
    assert "env: CITYSTAT_DAGSTER_POSTGRES_URL" in config
    password = postgres_url.split("@")[0].rsplit(":", 1)[1]
    assert password not in config  # the file names the variable, never the secret
    assert not list((tmp_path / "dagster_home").rglob("*.db"))  # no SQLite run/event/schedule storage

    with psycopg.connect(postgres_url) as con:  # read the server directly, not through Dagster
        runs = con.execute("select pipeline_name, status from runs").fetchall()
        materialized = con.execute(
            "select count(distinct asset_key) from event_logs where dagster_event_type = 'ASSET_MATERIALIZATION'"
        ).fetchone()[0]
    assert runs == [("citystat_all", "SUCCESS")]
    assert materialized > 50  # every landed dataset, dbt model and metric asset of the run

    # the README's form of the setting (dagster-postgres needs the psycopg2 driver named)
    monkeypatch.setenv("CITYSTAT_DAGSTER_POSTGRES_URL", postgres_url.replace("postgresql://", "postgresql+psycopg2://", 1))
    with open_instance(env) as instance:  # and Dagster (the UI, the daemon) reads the same run back from there
        assert type(instance.run_storage).__name__ == "PostgresRunStorage"
        [record] = instance.get_run_records()
        assert record.dagster_run.status.value == "SUCCESS"
