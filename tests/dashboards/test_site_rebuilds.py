"""The dashboards asset rebuilds the site only when a table it reads (or the project) changed.

Works on a copy of the shared demo city after its site was built (``built_site``), through `citystat run`
and the run's own Dagster records: an unchanged snapshot keeps the site as it is (no Evidence step), a
changed row in a table the pages read builds it again, and the new value is in the new site.
"""
from __future__ import annotations

import duckdb
import pytest

from pipeline_helpers import citystat, copy_of_pipeline, open_instance

pytestmark = [pytest.mark.slow]

SELECT_SITE = "key:dashboards/site"


def _site_metadata(env: dict) -> dict:
    from dagster import AssetKey

    with open_instance(env) as instance:
        run = instance.get_run_records(limit=1)[0].dagster_run
        event = instance.get_latest_materialization_event(AssetKey(["dashboards", "site"]))
    assert event is not None and event.run_id == run.run_id, "the last run did not materialize dashboards/site"
    return {key: value.value for key, value in event.asset_materialization.metadata.items()}


@pytest.mark.timeout(1500)
def test_unchanged_tables_keep_the_site_and_a_changed_table_builds_it(built_site, pipeline, tmp_path):
    copy = tmp_path / "copy"
    env = copy_of_pipeline(pipeline.tmp, copy)
    site = copy / "warehouse" / "dashboards"
    assert (site / "index.html").is_file() and (copy / "warehouse" / "dashboards.inputs.json").is_file()
    sentinel = site / "sentinel-from-the-test.txt"  # a rebuild replaces the folder whole, so this would go
    sentinel.write_text("kept")
    index_mtime = (site / "index.html").stat().st_mtime_ns

    result = citystat(env, "run", "--select", SELECT_SITE)
    metadata = _site_metadata(env)
    assert metadata["rebuilt"] is False, metadata
    assert "sources" not in metadata["step_seconds"] and "build" not in metadata["step_seconds"]
    assert sentinel.read_text() == "kept" and (site / "index.html").stat().st_mtime_ns == index_mtime
    assert "dashboards/site: nothing it reads has changed since its last build" in result.stdout

    snapshot = copy / "warehouse" / "citystat.duckdb"
    new_name = "Renamed by the rebuild test 7261"
    with duckdb.connect(str(snapshot)) as con:
        kpi_id = con.execute("select min(kpi_id) from metrics.kpi_status").fetchone()[0]
        assert con.execute("select count(*) from metrics.kpi_status where kpi_name = ?", [new_name]).fetchone()[0] == 0
        con.execute("update metrics.kpi_status set kpi_name = ? where kpi_id = ?", [new_name, kpi_id])

    citystat(env, "run", "--select", SELECT_SITE)
    metadata = _site_metadata(env)
    assert metadata["rebuilt"] is True, metadata
    reasons = metadata["rebuilt_because"].split(", ")
    assert "metrics.kpi_status" in reasons and set(reasons) <= set(metadata["snapshot_tables"].split(", ")), reasons
    assert metadata["step_seconds"]["build"] > 0
    assert not sentinel.exists()
    # The new site was swapped in whole (a link to a complete release); the one it replaced is kept beside it,
    # so a reader (the server) that resolved the old link a moment ago still finds its files.
    assert site.is_symlink() and (site / "index.html").is_file()
    kept = [release for release in (copy / "warehouse" / "dashboards.releases").iterdir() if release != site.resolve()]
    assert [(release / "sentinel-from-the-test.txt").read_text() for release in kept] == ["kept"]
    # The new name reached the site: in the prerendered pages or the query results shipped with them.
    assert any(new_name.encode() in path.read_bytes() for path in site.rglob("*") if path.is_file())
