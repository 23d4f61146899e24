"""The Dagster side: assets generated from the real inventory, a real run with one source down, sensors."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import time

import dagster as dg
import pytest

from data_inventory import load_inventory
from demo_city.servers import serve_in_thread
from orchestration.defs.ingestion.assets import build_ingestion
from orchestration.lib.resources import IngestionResource
from orchestration.defs.ingestion.sensors import build_file_drop_sensor

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


def test_ingestion_definitions_import_in_under_three_seconds():
    """The ingestion's share of the code location (inventory -> assets, sensors, schedule) stays well
    inside the 3 s budget. CPU time is asserted because the machine is shared (wall time also counts
    other people's work); the whole code location's import time is printed for the record."""
    ingestion = import_seconds(
        "from orchestration.defs.ingestion.assets import build_ingestion; from orchestration.defs.ingestion.sensors import build_file_drop_sensors; "
        "import orchestration.defs.automation.schedules; i = build_ingestion(); build_file_drop_sensors(i.file_drop_refs)"
    )
    whole = import_seconds("import orchestration.definitions")
    print(f"ingestion definitions build in {ingestion[0]:.2f} s wall / {ingestion[1]:.2f} s CPU; "
          f"orchestration.definitions (with dbt) imports in {whole[0]:.2f} s wall / {whole[1]:.2f} s CPU")
    assert ingestion[1] < 2


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
    return {e.step_key: e.event_specific_data.error.message for e in result.all_events if e.event_type_value == "STEP_FAILURE"}


def materialized(result) -> dict[str, dict]:
    return {".".join(e.materialization.asset_key.path[1:]): {k: v.value for k, v in e.materialization.metadata.items()}
            for e in result.get_asset_materialization_events()}


def test_one_run_lands_every_source_while_a_dead_one_fails_alone(generated_city, tmp_path, monkeypatch, ingestion):
    """All raw assets in one run; the portal answers 500 forever: its three assets fail with the
    URL and the error, every other department's data lands. Then the portal recovers: only the
    portal lands; everything else is a no-op."""
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
    # ce_vacant.cases fails too: the demo city plants a renamed column in one daily export.
    assert set(failed) == portal | {"raw__ce_vacant__cases"}
    for step in portal:
        dataset = step.removeprefix("raw__").replace("__", ".")
        assert f"{dataset}: GET {server.url}/resource/" in failed[step]
        assert "failed after 2 attempt(s): HTTP 500" in failed[step]
        assert any(m.startswith(f"{dataset}: GET ") and "(attempt 1)" in m for m in first_log)  # retries visible
    assert "vacant_cases_2026-09-21.csv" in failed["raw__ce_vacant__cases"]
    assert "missing declared column(s) inspector_id; undeclared column(s) inspector, ward" in failed["raw__ce_vacant__cases"]

    landed_first = materialized(first)
    for name, rows in counts.items():
        if name.startswith("proc_portal."):
            assert name not in landed_first
        elif name == "ce_vacant.cases":  # every file but the drifted one
            drifted = landed(resource.landing(), "ce_vacant", "cases", "SELECT count(*) FROM batch")[0][0]
            assert landed_first[name]["rows"] == drifted < rows
        else:
            assert landed_first[name]["rows"] == rows, name
            assert landed_first[name]["batch_path"].endswith(f"{landed_first[name]['load_id']}.parquet")

    landed_second = materialized(second)
    assert set(failures(second)) == {"raw__ce_vacant__cases"}  # still drifted until the inventory maps it
    assert "ce_vacant.cases" not in landed_second  # nothing new landed, and the step failed
    for name, rows in counts.items():
        if name != "ce_vacant.cases":
            assert landed_second[name]["rows"] == (rows if name.startswith("proc_portal.") else 0), name


def test_file_drop_sensor_requests_a_run_only_for_new_files(tmp_path, ingestion):
    ref = load_inventory().get("fin_erp", "budget")
    drops = tmp_path / "city" / "drops" / "finance"
    drops.mkdir(parents=True)
    sensor = build_file_drop_sensor(ref)
    resources = {"ingestion": IngestionResource(data_dir=str(tmp_path / "city"))}

    def tick(cursor=None):
        with dg.build_sensor_context(cursor=cursor, resources=resources) as context:
            return sensor(context), context.cursor

    result, cursor = tick()
    assert isinstance(result, dg.SkipReason) and cursor is None

    (drops / "budget_FY2026.csv").write_text("fiscal_year\n2026\n")
    (drops / "gl_expenditures_2026-10.csv").write_text("other dataset\n")
    result, cursor = tick()
    assert isinstance(result, dg.RunRequest) and result.asset_selection == [dg.AssetKey(["raw", "fin_erp", "budget"])]
    assert "budget_FY2026.csv" in result.run_key

    result, cursor = tick(cursor)
    assert isinstance(result, dg.SkipReason)

    newer = drops / "budget_FY2027.csv"
    newer.write_text("fiscal_year\n2027\n")
    os.utime(newer, ns=(time.time_ns() + 10**9, time.time_ns() + 10**9))
    result, _ = tick(cursor)
    assert isinstance(result, dg.RunRequest) and "budget_FY2027.csv" in result.run_key


def test_definitions_assemble_schedule_sensors_and_resources():
    from orchestration.definitions import INGESTION_ASSETS, WAREHOUSE_ASSETS, defs

    dg.Definitions.validate_loadable(defs)
    assert defs.resolve_schedule_def("daily_ingestion").job.name == "ingest_all"
    drop_refs = [r for r in load_inventory().datasets() if r.dataset.connector in ("csv_drop", "xlsx_drop", "manual_submission")]
    assert {s.name for s in defs.sensors} == {f"{r.system.id}__{r.dataset.id}__new_files" for r in drop_refs}
    assert len(INGESTION_ASSETS) > 40 and isinstance(WAREHOUSE_ASSETS, list)
