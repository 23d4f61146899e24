"""The Dagster side: assets generated from the real inventory, a real run with one source down and one drifted
file, the file-drop sensor on real files and a real instance."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import dagster as dg
import pytest

from data_inventory import load_inventory
from demo_city.servers import serve_in_thread
from citystat.connectors import build_connector
from citystat.ingestion import is_file_drop, source_spec
from orchestration.defs.ingestion.assets import DRIFT_CHECK, SOURCE_CHECK, build_ingestion, raw_key
from orchestration.defs.ingestion.sensors import build_file_drop_sensor
from orchestration.lib.resources import IngestionResource

from .helpers import landed


@pytest.fixture(scope="module")
def ingestion():
    return build_ingestion()


def import_seconds(statement: str) -> tuple[float, float]:
    """(wall, CPU) seconds of ``statement`` in a fresh interpreter."""
    code = f"import time; w, c = time.perf_counter(), time.process_time(); {statement}; " \
           "print(time.perf_counter() - w, time.process_time() - c)"
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True).stdout
    wall, cpu = map(float, out.split())
    return wall, cpu


def test_ingestion_definitions_build_in_a_fresh_interpreter_and_print_their_cost():
    """The ingestion's share of the code location (inventory -> assets, sensor, schedule) builds on its own; its cost
    and the whole code location's import time are printed for the record (a figure, not a timed assertion: the
    machine is shared; benchmarks/fixed_costs.py measures the code location's load)."""
    ingestion = import_seconds(
        "from orchestration.defs.ingestion.assets import build_ingestion; "
        "from orchestration.defs.ingestion.sensors import build_file_drop_sensor; "
        "from orchestration.defs.ingestion.schedules import build_daily_ingestion; "
        "i = build_ingestion(); build_file_drop_sensor(i.file_drop_refs); build_daily_ingestion(i); "
        "assert len(i.raw_assets) >= 20"
    )
    whole = import_seconds("import orchestration.definitions")
    print(f"ingestion definitions build in {ingestion[0]:.2f} s wall / {ingestion[1]:.2f} s CPU; "
          f"orchestration.definitions (with dbt) imports in {whole[0]:.2f} s wall / {whole[1]:.2f} s CPU")


def test_every_inventory_dataset_has_a_source_spec_and_every_automated_one_a_raw_asset(ingestion):
    inventory = load_inventory()
    refs = {ref.key: ref for ref in inventory.datasets()}
    specs = {spec.key: spec for spec in ingestion.source_specs}
    assert set(specs) == {dg.AssetKey(["source", *key]) for key in refs}

    raw_specs = {spec.key: spec for asset in ingestion.raw_assets for spec in asset.specs}
    automated = {key for key, ref in refs.items() if ref.dataset.connector != "none"}
    assert set(raw_specs) == {dg.AssetKey(["raw", *key]) for key in automated}
    assert len(automated) >= 20 and len(refs) > len(automated)  # some datasets are inventoried only

    ref = refs[("crm311", "service_requests")]
    raw = raw_specs[dg.AssetKey(["raw", "crm311", "service_requests"])]
    assert raw.group_name == "cs" and {d.asset_key for d in raw.deps} == {dg.AssetKey(["source", "crm311", "service_requests"])}
    assert ref.dataset.title in raw.description and ref.dataset.description in raw.description
    meta = raw.metadata
    assert meta["owner"] == f"{ref.dataset.owner.name} <{ref.dataset.owner.email}>"
    assert meta["steward"] == f"{ref.dataset.steward.name} <{ref.dataset.steward.email}>"
    assert (meta["cadence"], meta["access_level"], meta["connector"]) == (ref.dataset.cadence, ref.dataset.access_level, "open311")
    assert meta["location_env"] == "CITYSTAT_OPEN311_URL"
    assert set(meta["pii_fields"].value) == set(ref.pii_fields) and {"email", "phone"} <= set(ref.pii_fields)
    assert "pii: " in meta["sensitivity"] and meta["freshness_hours"] == ref.dataset.freshness_hours
    assert {"api", "open311"} <= set(raw.kinds) and raw.owners == [ref.dataset.owner.email]
    assert raw.freshness_policy is not None
    assert not any("://" in str(v) and "@" in str(v) for v in meta.values())  # never a credential

    manual = specs[dg.AssetKey(["source", "cs_telephony", "call_answer_times"])]
    assert manual.group_name == "cs" and manual.description.startswith("Not automated")


def run_ingestion(ingestion, resource, home):
    """One run of every raw asset; returns the result and the run's log messages."""
    home.mkdir(exist_ok=True)
    with dg.instance_for_test(temp_dir=str(home)) as instance:
        result = dg.materialize([*ingestion.source_specs, *ingestion.raw_assets], resources={"ingestion": resource},
                                instance=instance, raise_on_error=False)
        return result, [entry.user_message for entry in instance.all_logs(result.run_id)]


def failures(result) -> dict[str, str]:
    """Failed steps, and sources that failed (a failed `source_reachable` check: the step itself succeeds so the
    run's other sources go on), by step key."""
    failed = {e.step_key: e.event_specific_data.error.message for e in result.all_events if e.event_type_value == "STEP_FAILURE"}
    failed.update({"raw__" + "__".join(e.asset_key.path[1:]): e.description for e in result.get_asset_check_evaluations()
                   if e.check_name == SOURCE_CHECK and not e.passed})
    return failed


def materialized(result) -> dict[str, dict]:
    return {".".join(e.materialization.asset_key.path[1:]): {k: v.value for k, v in e.materialization.metadata.items()}
            for e in result.get_asset_materialization_events()}


def failed_checks(result) -> dict[tuple[str, str], dg.AssetCheckEvaluation]:
    return {(".".join(e.asset_key.path[1:]), e.check_name): e for e in result.get_asset_check_evaluations() if not e.passed}


DRIFTED = "vacant_cases_2026-09-21.csv"  # the demo city plants a renamed column in one daily export


@pytest.mark.slow
@pytest.mark.timeout(900)
def test_one_run_lands_every_source_while_a_dead_one_fails_alone(generated_city, tmp_path, monkeypatch, ingestion):
    """All raw assets in one run; the portal answers 500 forever: its three assets fail with the
    URL and the error, every other department's data lands. A drifted drop file does not fail its asset:
    the good files land and the asset's `schema_drift` check fails naming the file. Then the portal
    recovers: only the portal lands; everything else is a no-op, and the drifted file is still reported."""
    counts = json.loads((generated_city / "generation.json").read_text())["row_counts"]
    resource = IngestionResource(data_dir=str(generated_city), warehouse_dir=str(tmp_path / "warehouse"),
                                 retry_attempts=2, retry_initial_wait=0.01, retry_max_wait=0.02, http_timeout=5)
    with serve_in_thread(generated_city, faults="soda=500") as server:
        monkeypatch.setenv("CITYSTAT_OPEN311_URL", f"{server.url}/open311/v2")
        monkeypatch.setenv("CITYSTAT_SODA_URL", server.url)
        started = time.monotonic()
        first, first_log = run_ingestion(ingestion, resource, tmp_path / "dagster_home")
        print(f"first ingestion run: {time.monotonic() - started:.1f} s")
        server.faults.clear()
        second, _ = run_ingestion(ingestion, resource, tmp_path / "dagster_home")

    failed = failures(first)
    portal = {f"raw__proc_portal__{d}" for d in ("vendors", "contracts", "contract_milestones")}
    assert set(failed) == portal  # the drifted file does not fail its asset any more
    for step in portal:
        dataset = step.removeprefix("raw__").replace("__", ".")
        assert f"{dataset}: GET {server.url}/resource/" in failed[step]
        assert "failed after 2 attempt(s): HTTP 500" in failed[step]
        assert any(m.startswith(f"{dataset}: GET ") and "(attempt 1)" in m for m in first_log)  # retries visible

    assert not [e for e in first.all_events if e.event_type_value == "STEP_FAILURE"]  # a dead source fails no step
    for run, dead in ((first, {(f"proc_portal.{d}", SOURCE_CHECK) for d in ("vendors", "contracts", "contract_milestones")}),
                      (second, set())):
        checks = failed_checks(run)
        assert set(checks) == {("ce_vacant.cases", DRIFT_CHECK)} | dead  # every other drop folder's check passed
        drift = checks[("ce_vacant.cases", DRIFT_CHECK)]
        assert drift.severity == dg.AssetCheckSeverity.ERROR
        assert DRIFTED in drift.description
        assert "missing declared column(s) inspector_id; undeclared column(s) inspector, ward" in drift.description
        assert [Path(f.split(": ")[0]).name for f in drift.metadata["rejected_files"].value] == [DRIFTED]
    passed = {(".".join(e.asset_key.path[1:]), e.check_name) for e in first.get_asset_check_evaluations() if e.passed}
    assert ("ce_vacant.inspections", DRIFT_CHECK) in passed and ("fin_erp.budget", DRIFT_CHECK) in passed

    landed_first = materialized(first)
    for name, rows in counts.items():
        if name.startswith("proc_portal."):  # nothing landed, the data version stays the last batch's
            assert landed_first[name]["rows"] == 0 and landed_first[name]["source_failed"] is True
            assert landed_first[name]["new_batch"] is False and landed_first[name]["latest_load_id"] == ""
        elif name == "ce_vacant.cases":  # every file but the drifted one
            in_landing = landed(resource.landing(), "ce_vacant", "cases", "SELECT count(*) FROM batch")[0][0]
            files = landed(resource.landing(), "ce_vacant", "cases", "SELECT DISTINCT _source_file FROM batch")
            assert landed_first[name]["rows"] == in_landing < rows
            assert DRIFTED not in {Path(f).name for (f,) in files} and len(files) > 1
        else:
            assert landed_first[name]["rows"] == rows, name
            assert landed_first[name]["batch_path"].endswith(f"{landed_first[name]['load_id']}.parquet")

    landed_second = materialized(second)
    assert failures(second) == {}
    for name, rows in counts.items():
        assert landed_second[name]["rows"] == (rows if name.startswith("proc_portal.") else 0), name


def test_file_drop_sensor_starts_from_the_ledger_and_asks_once_per_file_version(city, tmp_path, ingestion, fast):
    """One sensor for every drop folder, on a real instance over real files: a warehouse that has landed
    every file requests nothing; a new file requests one run of its dataset's raw asset; a file the landing
    refuses (schema drift) is not requested again until it changes."""
    refs = ingestion.file_drop_refs
    cases = next(r for r in refs if r.key == ("ce_vacant", "cases"))
    folder = city / "drops" / "code_enforcement"
    drifted = folder / DRIFTED
    aside = tmp_path / DRIFTED
    shutil.move(drifted, aside)  # first a city whose every drop file lands

    resource = IngestionResource(data_dir=str(city), warehouse_dir=str(tmp_path / "warehouse"))
    landing = resource.landing()

    def land(ref):
        return landing.load(build_connector(source_spec(ref, city), fast))

    for ref in refs:
        land(ref)
    sensor = build_file_drop_sensor(refs)
    assert sensor.name == "file_drops"
    assert set(sensor.asset_selection.resolve(ingestion.raw_assets)) == {raw_key(r) for r in refs}

    with dg.instance_for_test() as instance:
        def tick(cursor):
            with dg.build_sensor_context(instance=instance, cursor=cursor, resources={"ingestion": resource}) as context:
                return sensor(context), context.cursor

        result, cursor = tick(None)  # first start on an up-to-date warehouse: no storm of runs
        assert isinstance(result, dg.SkipReason) and cursor is None

        new = folder / "vacant_cases_2026-11-01.csv"
        old = sorted(folder.glob("vacant_cases_*.csv"))[-1]
        new.write_text(old.read_text(encoding="utf-8").replace(old.stem.removeprefix("vacant_cases_"), "2026-11-01"),
                       encoding="utf-8")
        result, cursor = tick(cursor)
        assert isinstance(result, dg.RunRequest)
        assert result.asset_selection == [raw_key(cases)]
        assert f"ce_vacant.cases/{new.name}@" in result.tags["citystat/files"]
        again, cursor = tick(cursor)
        assert isinstance(again, dg.SkipReason)  # asked for once, not on every tick while the run is under way

        assert land(cases).landed
        result, _ = tick(None)  # even with the cursor lost, a landed file is never asked for again
        assert isinstance(result, dg.SkipReason)

        shutil.move(aside, drifted)  # a drifted export arrives
        result, cursor = tick(cursor)
        assert isinstance(result, dg.RunRequest) and result.asset_selection == [raw_key(cases)]
        assert f"ce_vacant.cases/{DRIFTED}@" in result.tags["citystat/files"]
        refused = land(cases)
        assert not refused.landed and [Path(f.split(": ")[0]).name for f in refused.rejected_files] == [DRIFTED]
        result, cursor = tick(cursor)
        assert isinstance(result, dg.SkipReason)  # refused, unchanged: not asked again

        later = time.time_ns() + 10**9
        os.utime(drifted, ns=(later, later))  # the department re-exports the file
        result, cursor = tick(cursor)
        assert isinstance(result, dg.RunRequest) and result.asset_selection == [raw_key(cases)]
        assert f"ce_vacant.cases/{DRIFTED}@{later}" in result.tags["citystat/files"]


def test_definitions_assemble_schedule_sensors_and_resources(ingestion):
    from orchestration.definitions import defs

    dg.Definitions.validate_loadable(defs)
    pulled = {raw_key(r) for r in ingestion.automated_refs if not is_file_drop(r)}
    schedule = defs.resolve_schedule_def("daily_ingestion")
    assert set(schedule.target.job_def.selection.resolve(defs.resolve_asset_graph())) == pulled
    sensors = {s.name for s in defs.sensors}
    assert "file_drops" in sensors and not [n for n in sensors if n.endswith("__new_files")]  # one sensor for every folder
    drops = defs.resolve_sensor_def("file_drops")
    assert set(drops.asset_selection.resolve(defs.resolve_asset_graph())) == {raw_key(r) for r in ingestion.file_drop_refs}
    assert isinstance(defs.resources["ingestion"], IngestionResource)
    graph = defs.resolve_asset_graph()
    assert {raw_key(r) for r in ingestion.automated_refs} <= graph.get_all_asset_keys()
