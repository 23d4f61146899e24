"""The open-data exports rewrite only what changed, on the snapshot of a real run of the small demo city (the
`pipeline` fixture): a second build on the same snapshot keeps every file (same inode, same mtime), a changed table
rewrites only the exports that read it, a deleted or tampered file is written again, a full refresh rewrites all,
and after every build each file equals, byte for byte, what a build from scratch writes into an empty folder."""
from __future__ import annotations

import shutil

import dagster as dg
import duckdb
import pytest

from citystat.open_data.config import load_config
from citystat.open_data.exports import build_exports
from citystat.open_data.record import record_path
from citystat.open_data.review import ReviewLog
from data_inventory import load_inventory

pytestmark = [pytest.mark.slow, pytest.mark.timeout(2400)]

# shipped open_data.yaml: 311 requests (held: mosaic risk), goals, stations, the ZIP x type aggregate of the
# requests, the KPI series and the goals' progress
ALL = {"crm311.service_requests", "perf_office.strategic_goals", "fire_cad.stations",
       "service_requests_by_zip_and_type", "kpi_series", "strategic_goal_progress"}


def _files(root) -> dict[str, tuple[int, int]]:
    """Every file of the current release -> (inode, mtime in ns)."""
    release = root.resolve()
    return {p.relative_to(release).as_posix(): (p.stat().st_ino, p.stat().st_mtime_ns)
            for p in release.rglob("*") if p.is_file()}


def _bytes(root) -> dict[str, bytes]:
    release = root.resolve()
    return {p.relative_to(release).as_posix(): p.read_bytes() for p in release.rglob("*") if p.is_file()}


class Exports:
    """The shipped declaration exported from a copy of the run's snapshot, with a review log of its own."""

    def __init__(self, pipeline, tmp_path):
        self.tmp = tmp_path
        self.snapshot = tmp_path / "citystat.duckdb"
        shutil.copyfile(pipeline.snapshot, self.snapshot)
        self.root = tmp_path / "open_data"

    def build(self, root=None, review="review.json", full_refresh=False):
        results = build_exports(self.snapshot, load_inventory(), load_config(), root or self.root,
                                ReviewLog(self.tmp / review), full_refresh=full_refresh)
        return {r.id: r for r in results}

    def from_scratch(self, name: str) -> dict[str, bytes]:
        """A build into an empty folder (no record, no previous release), with the same review decisions."""
        shutil.copyfile(self.tmp / "review.json", self.tmp / f"{name}-review.json")
        self.build(self.tmp / name, review=f"{name}-review.json")
        return _bytes(self.tmp / name)


def _rewritten(results) -> set[str]:
    return {export_id for export_id, r in results.items() if not r.kept}


def test_only_the_exports_whose_inputs_changed_are_written_and_every_file_equals_a_build_from_scratch(pipeline, tmp_path):
    assert pipeline.first_run.returncode in (0, 1), pipeline.first_run.stderr[-3000:]
    exports = Exports(pipeline, tmp_path)
    first = exports.build()
    assert _rewritten(first) == ALL and first["crm311.service_requests"].status == "held"
    files_first, release_first = _files(exports.root), exports.root.resolve()
    assert len([f for f in files_first if f.endswith(".parquet")]) == 5  # five released exports
    assert record_path(exports.root).is_file()

    # the same snapshot again: nothing is written; the held export stays held; the new release links the same files
    second = exports.build()
    assert _rewritten(second) == set()
    assert second["crm311.service_requests"].status == "held"
    assert "mosaic risk" in second["crm311.service_requests"].reason
    files_second = _files(exports.root)
    assert exports.root.resolve() != release_first  # a new release ...
    assert {k: v for k, v in files_second.items() if k != "manifest.json"} == \
        {k: v for k, v in files_first.items() if k != "manifest.json"}  # ... of the very same files
    assert _bytes(exports.root) == exports.from_scratch("scratch1")

    # one station changes its name: the stations export reads that table, nothing else does
    con = duckdb.connect(str(exports.snapshot))
    assert con.execute("UPDATE marts.dim_fire_station SET station_name = station_name || ' (renamed)' "
                       "WHERE station_id = (SELECT min(station_id) FROM marts.dim_fire_station)").fetchone() == (1,)
    con.close()
    third = exports.build()
    assert _rewritten(third) == {"fire_cad.stations"}
    files_third = _files(exports.root)
    changed = {k for k in files_third if files_third[k] != files_second.get(k)}
    assert changed == {"manifest.json", "fire_cad.stations/fire_cad.stations.csv",
                       "fire_cad.stations/fire_cad.stations.parquet", "fire_cad.stations/fire_cad.stations.dictionary.json"}
    assert "(renamed)" in _bytes(exports.root)["fire_cad.stations/fire_cad.stations.csv"].decode()
    assert _bytes(exports.root) == exports.from_scratch("scratch2")

    # a file deleted and a file tampered with in the current release: the record alone is not trusted
    release = exports.root.resolve()
    (release / "kpi_series" / "kpi_series.csv").unlink()
    with open(release / "strategic_goal_progress" / "strategic_goal_progress.parquet", "r+b") as handle:
        handle.seek(10)
        handle.write(b"X")
    fourth = exports.build()
    assert _rewritten(fourth) == {"kpi_series", "strategic_goal_progress"}
    assert _bytes(exports.root) == exports.from_scratch("scratch3")

    # a full refresh writes every export again (new files), to the same bytes
    before = _files(exports.root)
    fifth = exports.build(full_refresh=True)
    assert _rewritten(fifth) == ALL
    after = _files(exports.root)
    assert not {k for k in after if k != "manifest.json" and after[k][0] == before[k][0]}
    assert _bytes(exports.root) == exports.from_scratch("scratch4")


def test_an_approval_releases_a_held_export_that_was_kept_held(pipeline, tmp_path):
    exports = Exports(pipeline, tmp_path)
    exports.build()
    assert exports.build()["crm311.service_requests"].kept  # held, and kept held
    ReviewLog(tmp_path / "review.json").approve("crm311.service_requests", "Dana Reviewer")
    third = exports.build()
    assert _rewritten(third) == {"crm311.service_requests"}
    assert third["crm311.service_requests"].status == "released"
    assert "crm311.service_requests/crm311.service_requests.csv" in _bytes(exports.root)


def test_a_build_killed_before_its_record_keeps_nothing_it_cannot_verify(pipeline, tmp_path):
    """The record is written after the release is swapped in; a build that dies before it leaves the previous
    record, and an export whose files no longer carry the recorded checksums is written again."""
    exports = Exports(pipeline, tmp_path)
    exports.build()
    stale = record_path(exports.root).read_bytes()
    con = duckdb.connect(str(exports.snapshot))
    con.execute("UPDATE marts.dim_fire_station SET station_name = station_name || ' (renamed)'")
    con.close()
    exports.build()
    record_path(exports.root).write_bytes(stale)  # as if the build had been killed right after the swap
    third = exports.build()
    assert _rewritten(third) == {"fire_cad.stations"}  # its files no longer match the stale record's checksums
    assert _bytes(exports.root) == exports.from_scratch("scratch")
    record_path(exports.root).write_text("{half a rec")  # a torn record: everything is written again
    assert _rewritten(exports.build()) == ALL


def test_the_asset_reports_kept_and_rewritten_exports(pipeline, tmp_path, monkeypatch):
    from orchestration.defs.open_data.definitions import open_data_exports
    from orchestration.run import full_refresh_requested

    warehouse = tmp_path / "warehouse"
    warehouse.mkdir()
    shutil.copyfile(pipeline.snapshot, warehouse / "citystat.duckdb")
    monkeypatch.setenv("CITYSTAT_WAREHOUSE_DIR", str(warehouse))
    monkeypatch.setenv("CITYSTAT_DATA_DIR", str(pipeline.tmp / "city"))
    metadata = []
    for _ in range(2):
        result = dg.materialize([open_data_exports], instance=dg.DagsterInstance.ephemeral())
        assert result.success
        [event] = result.get_asset_materialization_events()
        metadata.append(event.step_materialization_data.materialization.metadata)
    assert (metadata[0]["exports_rewritten"].value, metadata[0]["exports_kept"].value) == (6, 0)
    assert (metadata[1]["exports_rewritten"].value, metadata[1]["exports_kept"].value) == (0, 6)
    assert metadata[1]["rebuilt"].value is False
    # `citystat run --full-refresh` puts the flag on the dbt step's config; the exports read it from there
    assert full_refresh_requested({"ops": {"dbt_models": {"config": {"full_refresh": True}}}})
    assert not full_refresh_requested({}) and not full_refresh_requested({"ops": {"dbt_models": {"config": {}}}})


def test_the_public_site_is_rebuilt_only_when_the_released_exports_change(pipeline, tmp_path):
    from citystat.public_site.build import build_public_site

    exports, inventory = Exports(pipeline, tmp_path), load_inventory()
    site = tmp_path / "site"

    def tree(folder) -> dict[str, bytes]:
        release = folder.resolve()
        return {p.relative_to(release).as_posix(): p.read_bytes() for p in release.rglob("*") if p.is_file()}

    exports.build()
    assert build_public_site(exports.root, site, inventory).rebuilt
    index = (site / "index.html").stat().st_ino
    # the exports kept as they were, and even written again to the same bytes (full refresh): the site is kept
    exports.build()
    exports.build(full_refresh=True)
    kept = build_public_site(exports.root, site, inventory)
    assert not kept.rebuilt and (site / "index.html").stat().st_ino == index and len(kept.pages) > 10
    # a released file changes (a goal's title in the snapshot): the site is built again, equal to a fresh site
    con = duckdb.connect(str(exports.snapshot))
    con.execute("UPDATE marts.dim_strategic_goal SET title = title || ' (revised)'")
    con.close()
    assert _rewritten(exports.build()) == {"perf_office.strategic_goals"}
    assert build_public_site(exports.root, site, inventory).rebuilt
    assert tree(site) == tree(build_public_site(exports.root, tmp_path / "fresh_site", inventory).site_dir)
    assert b"(revised)" in tree(site)["open-data/perf_office.strategic_goals/perf_office.strategic_goals.csv"]
    # a page deleted from the site: built again
    (site.resolve() / "kpis" / "index.html").unlink()
    assert build_public_site(exports.root, site, inventory).rebuilt
