"""Independent sources are extracted side by side inside one in-process Dagster run
(orchestration/lib/landing_threads.py), and each keeps its own outcome.

The portal (fault_server.py, its own process) answers the two SODA datasets' count(*) only once BOTH have
asked (``meet-2``): landed one after another, the first waits in vain and both fail; landed side by side, both
land every row. Beside them an Open311 system that never answers fails alone within its deadline, naming its
URL, and a file drop lands its rows: one bad source holds back no other.
"""
from __future__ import annotations

import json
import subprocess
import sys
import uuid
from pathlib import Path

import dagster as dg
import pytest

from data_inventory import load_inventory
from orchestration.defs.ingestion.assets import SOURCE_CHECK, build_ingestion, raw_key
from orchestration.lib.landing_threads import LANDING_THREADS_ENV, landing_threads
from orchestration.lib.resources import IngestionResource
from hostile_table import record

HERE = Path(__file__).resolve().parent
ROWS = 7  # every fault_server resource serves 7 rows
DATASETS = ("proc_portal.vendors", "proc_portal.contracts", "crm311.services", "ce_vacant.cases")


@pytest.fixture(scope="module")
def server():
    proc = subprocess.Popen([sys.executable, str(HERE / "fault_server.py")], stdout=subprocess.PIPE, text=True)
    try:
        yield f"http://127.0.0.1:{int(proc.stdout.readline())}"
    finally:
        proc.kill()
        proc.wait(10)


def land_round(server: str, tmp: Path, monkeypatch, threads: str) -> dg.ExecuteInProcessResult:
    token = uuid.uuid4().hex[:8]
    monkeypatch.setenv("CITYSTAT_SODA_URL", f"{server}/meet-2/{token}")
    monkeypatch.setenv("CITYSTAT_OPEN311_URL", f"{server}/hang/{token}")
    monkeypatch.delenv("CITYSTAT_CE_DROPS", raising=False)
    monkeypatch.setenv(LANDING_THREADS_ENV, threads)
    inventory = load_inventory()
    fields = [f.name for f in inventory.get("ce_vacant", "cases").dataset.fields]
    drops = tmp / "city" / "drops" / "code_enforcement"
    drops.mkdir(parents=True)
    row = {"opened_date": "2026-10-01", "status": "open"}
    (drops / "vacant_cases_2026-10-01.csv").write_text(
        ",".join(fields) + "\n" + "".join(",".join({"case_id": f"HC-{i}", **row}.get(f, "") for f in fields) + "\n"
                                          for i in (1, 2, 3)))
    keys = {raw_key(inventory.get(*name.split("."))) for name in DATASETS}
    assets = [a for a in build_ingestion(inventory).raw_assets if set(a.keys) & keys]
    resource = IngestionResource(data_dir=str(tmp / "city"), warehouse_dir=str(tmp / "warehouse"), retry_attempts=1,
                                 http_timeout=2.0, request_deadline=4.0, asset_deadline=8.0)
    return dg.materialize(assets, resources={"ingestion": resource}, raise_on_error=False)


def outcomes(result: dg.ExecuteInProcessResult) -> tuple[dict[str, int], dict[str, str]]:
    """Rows landed per dataset, and the sources that failed (their failed `source_reachable` check, by step key)."""
    assert not [e for e in result.all_events if e.is_step_failure]  # a failed source fails its check, not its step
    rows = {"/".join(e.asset_key.path[1:]): e.materialization.metadata["rows"].value
            for e in result.get_asset_materialization_events()}
    failed = {"raw__" + "__".join(e.asset_key.path[1:]): e.description for e in result.get_asset_check_evaluations()
              if e.check_name == SOURCE_CHECK and not e.passed}
    return rows, failed


@pytest.mark.timeout(240)
def test_sources_land_side_by_side_and_each_fails_alone(server, tmp_path, monkeypatch):
    monkeypatch.delenv(LANDING_THREADS_ENV, raising=False)
    assert landing_threads() > 1  # side by side is the default

    result = land_round(server, tmp_path / "threads", monkeypatch, "4")
    rows, failed = outcomes(result)
    assert rows == {"proc_portal/vendors": ROWS, "proc_portal/contracts": ROWS, "ce_vacant/cases": 3, "crm311/services": 0}, \
        (rows, failed)
    assert list(failed) == ["raw__crm311__services"], failed
    message = failed["raw__crm311__services"]
    assert f"{server}/hang/" in message and "attempt" in message and "elapsed" in message, message
    ledger = [json.loads(line) for line in (tmp_path / "threads" / "warehouse" / "landing" / "_loads.jsonl")
              .read_text().splitlines()]
    assert sorted((e["dataset"], e["rows"]) for e in ledger) == [("cases", 3), ("contracts", ROWS), ("vendors", ROWS)]
    record("sources_side_by_side_one_hangs", "proc", "hanging one fails alone; rest land", 2 * ROWS + 3,
           sum(rows.values()), message.splitlines()[0])

    # the control: one landing after another, the first SODA dataset waits for the second in vain
    result = land_round(server, tmp_path / "one_by_one", monkeypatch, "1")
    rows, failed = outcomes(result)
    assert rows == {"ce_vacant/cases": 3, "crm311/services": 0, "proc_portal/vendors": 0, "proc_portal/contracts": 0}, \
        (rows, failed)
    assert sorted(failed) == ["raw__crm311__services", "raw__proc_portal__contracts", "raw__proc_portal__vendors"]


LEFT_BEHIND = """
import sys, time
from data_inventory import load_inventory
from orchestration.lib.landing_threads import RunLandings
from orchestration.lib.resources import IngestionResource

inventory = load_inventory()
refs = [inventory.get("proc_portal", "vendors"), inventory.get("proc_portal", "contracts")]
ingestion = IngestionResource(data_dir=sys.argv[1], warehouse_dir=sys.argv[2], http_timeout=3600.0,
                              request_deadline=3600.0, asset_deadline=3600.0)
landings = RunLandings(refs, ingestion, 2)
time.sleep(2)  # both landings are waiting on the portal now
print("leaving", flush=True)
"""


@pytest.mark.timeout(120)
def test_a_run_that_ends_before_its_landings_exits_at_once_and_commits_nothing(server, tmp_path, monkeypatch):
    """A run cancelled (or crashed) while sources still extract: its process exits at once, as a one-at-a-time run
    would, instead of waiting out the landings' deadlines (an hour here) while holding their datasets' locks."""
    env = {**__import__("os").environ, "CITYSTAT_SODA_URL": f"{server}/hang/{uuid.uuid4().hex[:8]}"}
    (tmp_path / "city").mkdir()
    ended = subprocess.run([sys.executable, "-c", LEFT_BEHIND, str(tmp_path / "city"), str(tmp_path / "warehouse")],
                           cwd=HERE.parents[1], env=env, capture_output=True, text=True, timeout=90)
    assert ended.returncode == 0 and ended.stdout.strip() == "leaving", ended.stderr[-2000:]
    assert not (tmp_path / "warehouse" / "landing" / "_loads.jsonl").exists()
