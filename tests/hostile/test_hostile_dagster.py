"""A bad file in a real drop folder, through the Dagster raw asset and the `citystat run` console: the good
files of the dataset land (the asset succeeds), the asset's ``readable_files`` check fails with severity
ERROR naming file, line, data row and field (what the UI shows), and the CLI prints the same and exits 1
with no failed step. File content is never printed."""
from __future__ import annotations

import json
import re
from pathlib import Path

import dagster as dg
import pytest

from data_inventory import load_inventory
from orchestration.defs.ingestion.assets import DRIFT_CHECK, FILES_CHECK, build_ingestion, raw_key
from orchestration.lib.resources import IngestionResource
from pipeline_helpers import citystat, pipeline_env, small_city
from hostile_table import record

SECRET = "S3CR3T-CONTENT"
BAD = "vacant_cases_2026-10-02.csv"


def write_drops(folder: Path) -> list[str]:
    """Two good daily exports around a bad one (an unterminated quote in data row 2 of 4)."""
    fields = [f.name for f in load_inventory().get("ce_vacant", "cases").dataset.fields]
    folder.mkdir(parents=True, exist_ok=True)

    def row(case: str, **values) -> str:
        return ",".join(values.get(f, {"case_id": case, "opened_date": "2026-10-01", "status": "open"}.get(f, ""))
                        for f in fields)

    header = ",".join(fields) + "\n"
    (folder / "vacant_cases_2026-10-01.csv").write_text(header + row("HC-1") + "\n" + row("HC-2") + "\n")
    bad_row = row("HC-4", owner_name=f'"{SECRET} Avery')  # the quote never closes
    (folder / BAD).write_text(header + row("HC-3") + "\n" + bad_row + "\n" + row("HC-5") + "\n" + row("HC-6") + "\n")
    (folder / "vacant_cases_2026-10-03.csv").write_text(header + row("HC-7") + "\n")
    return fields


@pytest.mark.timeout(300)
def test_the_raw_asset_lands_the_good_files_and_its_check_names_the_bad_one(tmp_path):
    city = tmp_path / "city"
    write_drops(city / "drops" / "code_enforcement")
    ref = load_inventory().get("ce_vacant", "cases")
    ingestion = build_ingestion()
    (asset,) = [a for a in ingestion.raw_assets if raw_key(ref) in a.keys]
    resource = IngestionResource(data_dir=str(city), warehouse_dir=str(tmp_path / "warehouse"))
    result = dg.materialize([asset], resources={"ingestion": resource}, raise_on_error=False)

    assert result.success  # the asset itself succeeds: the good files landed
    (event,) = result.get_asset_materialization_events()
    assert event.materialization.metadata["rows"].value == 3
    checks = {e.check_name: e for e in result.get_asset_check_evaluations()}
    assert checks[DRIFT_CHECK].passed
    files = checks[FILES_CHECK]
    assert not files.passed and files.severity == dg.AssetCheckSeverity.ERROR
    assert f"{BAD} (line 3, data row 2, field 'owner_name')" in files.description, files.description
    (aside,) = files.metadata["set_aside"].value
    assert (aside["file"], aside["line"], aside["row"], aside["field"]) == (BAD, 3, 2, "owner_name")
    assert SECRET not in json.dumps(files.metadata["set_aside"].value) + files.description
    ledger = [json.loads(line) for line in (tmp_path / "warehouse" / "landing" / "_loads.jsonl").read_text().splitlines()]
    assert [f["file"] for f in ledger[-1]["files"]] == ["vacant_cases_2026-10-01.csv", "vacant_cases_2026-10-03.csv"]
    assert ledger[-1]["source_rows"] == ledger[-1]["rows"] == 3 and ledger[-1]["set_aside"][0]["file"] == BAD
    record("csv_bad_file_in_dagster_raw_asset", "file", "set aside; check ERROR", 7, 3 + 4,
           files.description.splitlines()[-1])


@pytest.mark.slow
@pytest.mark.timeout(900)
def test_citystat_run_prints_the_set_aside_file_and_exits_1_without_a_failed_step(tmp_path):
    env = small_city(tmp_path)
    write_drops(Path(env["CITYSTAT_DATA_DIR"]) / "drops" / "code_enforcement")
    run = citystat(env, "run", "--select", "key:raw/ce_vacant/cases", "--no-dashboards", check=False)
    out = run.stdout + run.stderr
    flat = " ".join(out.split())
    assert run.returncode == 1, out[-4000:]
    assert re.search(r"\b0 failed steps, 1 failed ERROR checks", flat), out[-4000:]
    assert "raw/ce_vacant/cases:readable_files" in flat and BAD in flat, out[-4000:]
    assert "line 3, data row 2, field 'owner_name'" in flat, out[-4000:]
    assert SECRET not in out
    again = citystat(env, "run", "--select", "key:raw/ce_vacant/cases", "--no-dashboards", check=False)
    assert again.returncode == 1 and BAD in " ".join((again.stdout + again.stderr).split())  # still named, still 1
