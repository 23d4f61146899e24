"""Locations given by environment variable (an operator's override of the inventory default) are held to the same
roots as inventory locations: a drop folder or database file outside the data directory and $CITYSTAT_DATA_ROOTS
is refused, naming the dataset and the variable, and nothing outside is read. Through the real raw asset, an
escaping folder fails that asset only; its rows are never read, the in-root folder's rows all land."""
from __future__ import annotations

import json

import dagster as dg
import pytest

from citystat.connectors.base import SourceError
from citystat.ingestion import source_spec
from data_inventory import load_inventory
from hostile_table import record
from orchestration.defs.ingestion.assets import SOURCE_CHECK, build_ingestion, raw_key
from orchestration.lib.resources import IngestionResource
from test_hostile_dagster import BAD, write_drops

SECRET = "S3CR3T-CONTENT"


@pytest.fixture
def inventory():
    return load_inventory()


@pytest.mark.timeout(60)
@pytest.mark.parametrize("value", ["/etc", "{outside}", "{inside}/../../outside", "{link}", "sqlite:////etc/app.sqlite", "~"],
                         ids=["etc", "absolute_outside", "climbing", "symlink_out", "sqlite_url_outside", "home"])
def test_an_env_location_outside_the_roots_is_refused(tmp_path, monkeypatch, inventory, value):
    data, outside = tmp_path / "city", tmp_path / "outside"
    (data / "drops").mkdir(parents=True), outside.mkdir()
    (data / "drops" / "link").symlink_to(outside, target_is_directory=True)
    monkeypatch.delenv("CITYSTAT_DATA_ROOTS", raising=False)
    value = value.format(outside=outside, inside=data / "drops", link=data / "drops" / "link")
    env, dataset = ("CITYSTAT_PW_MMS_URL", ("pw_mms", "work_orders")) if value.startswith("sqlite") else ("CITYSTAT_CE_DROPS", ("ce_vacant", "cases"))
    monkeypatch.setenv(env, value)
    with pytest.raises(SourceError, match=rf"{'.'.join(dataset)}: \${env} is outside the data directory"):
        source_spec(inventory.get(*dataset), data)


@pytest.mark.timeout(60)
def test_env_locations_inside_the_roots_are_used(tmp_path, monkeypatch, inventory):
    data, other = tmp_path / "city", tmp_path / "other_root"
    (data / "drops" / "ce").mkdir(parents=True), other.mkdir()
    monkeypatch.setenv("CITYSTAT_DATA_ROOTS", str(other))
    for value in (data / "drops" / "ce", other):
        monkeypatch.setenv("CITYSTAT_CE_DROPS", str(value))
        assert source_spec(inventory.get("ce_vacant", "cases"), data).location == str(value)
    monkeypatch.setenv("CITYSTAT_SODA_URL", "http://127.0.0.1:8311")  # a network URL: the path rules do not apply
    assert source_spec(inventory.get("proc_portal", "vendors"), data).location == "http://127.0.0.1:8311"


@pytest.mark.timeout(300)
def test_the_raw_asset_refuses_an_escaping_env_folder_and_reads_nothing_there(tmp_path, monkeypatch):
    city, outside = tmp_path / "city", tmp_path / "outside"
    city.mkdir()
    write_drops(outside)  # 7 rows (one file with an unterminated quote) the asset must never read
    monkeypatch.setenv("CITYSTAT_CE_DROPS", str(outside))
    monkeypatch.delenv("CITYSTAT_DATA_ROOTS", raising=False)
    ref = load_inventory().get("ce_vacant", "cases")
    (asset,) = [a for a in build_ingestion().raw_assets if raw_key(ref) in a.keys]
    resource = IngestionResource(data_dir=str(city), warehouse_dir=str(tmp_path / "warehouse"))
    result = dg.materialize([asset], resources={"ingestion": resource}, raise_on_error=False)
    # only this source fails (its source_reachable check, ERROR); the step does not, so a run's other sources go on
    assert result.success and not result.get_step_failure_events()
    (failed,) = [e for e in result.get_asset_check_evaluations() if not e.passed]
    message = failed.description
    assert failed.check_name == SOURCE_CHECK and failed.severity == dg.AssetCheckSeverity.ERROR
    assert "$CITYSTAT_CE_DROPS is outside the data directory" in message and SECRET not in message, message
    landing = tmp_path / "warehouse" / "landing"
    assert not landing.exists() or not list(landing.rglob("*.parquet"))
    # the same rows from inside the roots all land (the bad file set aside): 7 in, 3 landed + 4 held in a named file
    monkeypatch.setenv("CITYSTAT_DATA_ROOTS", str(outside))
    result = dg.materialize([asset], resources={"ingestion": resource}, raise_on_error=False)
    assert result.success
    ledger = [json.loads(line) for line in (landing / "_loads.jsonl").read_text().splitlines()]
    assert ledger[-1]["rows"] == ledger[-1]["source_rows"] == 3 and ledger[-1]["set_aside"][0]["file"] == BAD
    record("env_drop_folder_outside_roots", "inv", "refused; check fails, 0 read", 7, 7,
           "$CITYSTAT_CE_DROPS outside the data directory: no file read; inside a configured root 3 land + 4 set aside")
