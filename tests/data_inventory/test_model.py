"""The Python API other modules build on: datasets, keys, sensitive fields, locations."""
from __future__ import annotations

from pathlib import Path

import pytest

from data_inventory import DatasetRef, load_inventory, resolve_location


@pytest.fixture(scope="module")
def inventory():
    return load_inventory()


def test_datasets_yield_refs_with_department_system_and_key(inventory):
    refs = list(inventory.datasets())
    assert len(refs) == len({r.key for r in refs}) == sum(len(s.datasets) for s in inventory.systems)
    ref = inventory.get("pw_mms", "work_orders")
    assert isinstance(ref, DatasetRef)
    assert ref.key == ("pw_mms", "work_orders") and ref.name == "pw_mms.work_orders"
    assert (ref.department.id, ref.system.id, ref.dataset.id) == ("pw", "pw_mms", "work_orders")
    assert ref.system.department_id == "pw"
    assert [r.dataset.id for r in inventory.datasets("pw")] == ["work_orders", "crews", "assets", "paving_reports"]


def test_entries_read_like_the_yaml_dicts_too(inventory):
    ds = inventory.get("crm311", "service_requests").dataset
    assert ds["connector"] == ds.connector == "open311"
    assert ds.get("sheet") is None and ds.get("sheet", "none") == "none"
    assert ds["location"]["env"] == "CITYSTAT_OPEN311_URL"
    with pytest.raises(KeyError):
        ds["no_such_key"]


def test_pii_and_restricted_fields(inventory):
    ref = inventory.get("crm311", "service_requests")
    assert ref.pii_fields == ("first_name", "last_name", "phone", "email")
    assert set(ref.restricted_fields) == {"status_notes", "description", "first_name", "last_name", "phone", "email"}
    assert inventory.get("fire_cad", "stations").pii_fields == ()


def test_get_unknown_dataset_names_it(inventory):
    with pytest.raises(KeyError, match="pw_mms.nope"):
        inventory.get("pw_mms", "nope")
    with pytest.raises(KeyError, match="known: cs, pw"):
        inventory.department("xx")


def test_resolve_location_relative_default_against_data_dir(inventory, monkeypatch, tmp_path):
    monkeypatch.delenv("CITYSTAT_PW_MMS_URL", raising=False)
    ref = inventory.get("pw_mms", "work_orders")
    assert inventory.resolve_location(ref, tmp_path) == str(tmp_path / "public_works" / "mms.sqlite")
    assert resolve_location(inventory.get("ce_vacant", "cases"), tmp_path) == str(tmp_path / "drops" / "code_enforcement")


def test_resolve_location_env_wins(inventory, monkeypatch, tmp_path):
    monkeypatch.setenv("CITYSTAT_PW_MMS_URL", "postgresql://mms@db.riverton.gov/mms")
    assert inventory.resolve_location(inventory.get("pw_mms", "work_orders"), tmp_path) == "postgresql://mms@db.riverton.gov/mms"


def test_resolve_location_url_default_is_kept_and_data_dir_comes_from_env(inventory, monkeypatch, tmp_path):
    monkeypatch.delenv("CITYSTAT_OPEN311_URL", raising=False)
    monkeypatch.setenv("CITYSTAT_DATA_DIR", str(tmp_path))
    assert inventory.resolve_location(inventory.get("crm311", "services")) == "http://127.0.0.1:8311/open311/v2"
    monkeypatch.delenv("CITYSTAT_FIN_DROPS", raising=False)
    assert Path(inventory.resolve_location(inventory.get("fin_erp", "budget"))) == tmp_path / "drops" / "finance"


def test_resolve_location_of_a_dataset_nobody_can_pull(inventory):
    with pytest.raises(ValueError, match="pol_use_of_force.use_of_force: the inventory gives no location"):
        inventory.resolve_location(inventory.get("pol_use_of_force", "use_of_force"), "/tmp")
