"""The whole demo-city generator (every system) at scale 0.1: determinism, defect ground truth, clean mode, advance."""
from __future__ import annotations

import datetime as dt
import json
import shutil

import pytest
from systems_a_support import CE_DROP, MY_DATASETS, STORES, dump_sqlite, find_defects, fingerprint, manifest, mine, query

from demo_city.generator import advance, generate
from demo_city.systems import crm311, fire, public_works

AS_OF = dt.date(2026, 10, 31)
START = dt.date(2023, 7, 1)
SCALE = 0.1
# Every defect class systems A inject, by dataset (docs/contracts.md and issue 2)
EXPECTED_CLASSES = {
    ("closed_before_opened", "crm311.service_requests"), ("invalid_code", "crm311.service_requests"),
    ("pii_in_free_text", "crm311.service_requests"), ("closed_before_opened", "pw_mms.work_orders"),
    ("negative_amount", "pw_mms.work_orders"), ("orphan_key", "pw_mms.work_orders"), ("future_date", "fire_cad.incidents"),
    ("duplicate", "ce_vacant.cases"), ("addressed_without_evidence", "ce_vacant.cases"), ("schema_drift", "ce_vacant.cases"),
    ("missing_export", "ce_vacant.cases"), ("missing_export", "ce_vacant.inspections"), ("future_date", "ce_vacant.inspections"),
    ("pii_in_free_text", "ce_vacant.inspections"),
}  # fmt: skip


@pytest.fixture(scope="module")
def city(tmp_path_factory):
    out = tmp_path_factory.mktemp("city") / "seed42"
    generate(out, seed=42, scale=SCALE, as_of=AS_OF, clean=False)
    return out


@pytest.fixture(scope="module")
def clean_city(tmp_path_factory):
    out = tmp_path_factory.mktemp("city") / "clean"
    generate(out, seed=42, scale=SCALE, as_of=AS_OF, clean=True)
    return out


def test_same_seed_gives_identical_output(city, tmp_path):
    again = tmp_path / "again"
    generate(again, seed=42, scale=SCALE, as_of=AS_OF, clean=False)
    first, second = fingerprint(city), fingerprint(again)
    assert first.keys() == second.keys()
    assert [name for name in first if first[name] != second[name]] == []


def test_different_seed_differs_in_every_system(city, tmp_path):
    other = tmp_path / "seed43"
    generate(other, seed=43, scale=SCALE, as_of=AS_OF, clean=False)
    a, b = fingerprint(city), fingerprint(other)
    for path in STORES.values():
        assert a[path] != b[path], path
    ce = [name for name in a if name.startswith(str(CE_DROP)) and a[name] != b.get(name)]
    assert len(ce) > 1000  # nearly every daily export differs


def test_scale_0_1_writes_every_dataset_and_counts_match(city):
    meta = json.loads((city / "generation.json").read_text())
    assert (meta["seed"], meta["scale"], meta["as_of"], meta["start"], meta["clean"]) == (42, SCALE, "2026-10-31", "2023-07-01", False)
    counts = meta["row_counts"]
    assert counts["crm311.service_requests"] == len(query(city / STORES["crm311"], "SELECT 1 FROM requests"))
    assert counts["pw_mms.work_orders"] == len(query(city / STORES["pw_mms"], "SELECT 1 FROM work_orders"))
    assert counts["fire_cad.incidents"] == len(query(city / STORES["fire_cad"], "SELECT 1 FROM incidents"))
    # volumes scale linearly: ~85k requests, ~21k work orders, ~15k incidents at scale 1
    assert 7_000 < counts["crm311.service_requests"] < 10_000
    assert 1_700 < counts["pw_mms.work_orders"] < 2_600
    assert 1_200 < counts["fire_cad.incidents"] < 1_800
    # the vacant-property programme is a capacity, the same at every scale
    assert 1_200 < len({line.split(",")[0] for f in (city / CE_DROP).glob("vacant_cases_*.csv") for line in f.read_text().splitlines()[1:]}) < 2_000
    assert all(n > 0 for n in counts.values()), counts


def test_defect_manifest_matches_the_data_exactly(city):
    """Every listed record has its defect, and no record has a defect the manifest does not list."""
    listed = mine(manifest(city))
    assert set(listed) == EXPECTED_CLASSES
    found = mine(find_defects(city, AS_OF, START))
    for key in sorted(EXPECTED_CLASSES):
        assert found.get(key, set()) == listed[key], key
    assert {k: len(v) for k, v in found.items() if k not in EXPECTED_CLASSES} == {}


def test_defect_rates_are_small_and_known(city):
    counts = json.loads((city / "generation.json").read_text())["row_counts"]
    listed = manifest(city)
    for (cls, dataset), ids in listed.items():
        if dataset in MY_DATASETS and cls not in {"schema_drift", "missing_export"}:
            assert len(ids) / counts[dataset] < 0.02, (cls, dataset, len(ids))
    assert len(listed[("schema_drift", "ce_vacant.cases")]) == 1
    assert len(listed[("missing_export", "ce_vacant.cases")]) == 1


def test_clean_mode_has_no_defects(clean_city):
    assert json.loads((clean_city / "defects.json").read_text()) == {"defects": []}
    assert find_defects(clean_city, AS_OF, START) == {}


def test_clean_and_dirty_differ_only_in_listed_records(city, clean_city):
    """Defects come from their own random stream: everything else is the same city."""
    listed = manifest(city)
    for system, table in (("crm311", "requests"), ("pw_mms", "work_orders"), ("fire_cad", "incidents")):
        dirty = {row[0]: row for row in dump_sqlite(city / STORES[system])[table]}
        clean = {row[0]: row for row in dump_sqlite(clean_city / STORES[system])[table]}
        assert dirty.keys() == clean.keys()
        differs = {key for key in dirty if dirty[key] != clean[key]}
        flagged = set().union(*(ids for (cls, ds), ids in listed.items() if ds.startswith(system)))
        assert differs == flagged, system


def test_advance_appends_without_changing_history(city, tmp_path):
    data = tmp_path / "advanced"
    shutil.copytree(city, data)
    before_files = fingerprint(data)
    before_rows = {name: dump_sqlite(data / path) for name, path in STORES.items()}
    before_manifest = manifest(data)

    advance(data, days=20)
    new_as_of = AS_OF + dt.timedelta(days=20)
    meta = json.loads((data / "generation.json").read_text())
    assert (meta["as_of"], meta["start"]) == (new_as_of.isoformat(), START.isoformat())

    after_files = fingerprint(data)
    rewritten = [n for n, h in before_files.items() if not n.endswith((".sqlite", ".json")) and after_files.get(n) != h]
    assert rewritten == []
    for day in (AS_OF + dt.timedelta(days=i) for i in range(1, 21)):
        assert (data / CE_DROP / f"vacant_cases_{day}.csv").exists()
        assert (data / CE_DROP / f"vacant_inspections_{day}.csv").exists()

    # rows of the stores: existing rows keep every field, except the state of records that were still open
    mutable = {
        "crm311": ("requests", 0, crm311.STATE_COLUMNS, lambda r: r[1] == "open", 8),
        "pw_mms": ("work_orders", 0, public_works.STATE_COLUMNS, lambda r: r[5] in ("open", "scheduled"), 6),
        "fire_cad": ("incidents", 0, fire.STATE_COLUMNS, lambda r: r[10] is None, 6),
    }
    for system, (table, key, state_columns, was_open, dated) in mutable.items():
        with_columns = query(data / STORES[system], f"SELECT * FROM {table} LIMIT 0").columns.tolist()
        fixed = [i for i, c in enumerate(with_columns) if c not in state_columns]
        old = {r[key]: r for r in before_rows[system][table]}
        new = {r[key]: r for r in dump_sqlite(data / STORES[system])[table]}
        assert old.keys() <= new.keys()
        changed = [k for k in old if old[k] != new[k]]
        if system != "fire_cad":  # at scale 0.1 a fire is rarely still burning at midnight
            assert changed, f"{system}: no open record moved on in 20 days"
        for k in changed:
            assert was_open(old[k]), f"{system} {k} was closed before advance yet changed"
            assert [old[k][i] for i in fixed] == [new[k][i] for i in fixed], f"{system} {k}: a historical field changed"
        added = [new[k] for k in new.keys() - old.keys()]
        assert added, system
        assert min(r[dated][:10] for r in added) > AS_OF.isoformat(), system
    for name in ("crm311", "pw_mms", "fire_cad"):  # other tables (services, crews, stations, assets) are untouched
        for table, rows in before_rows[name].items():
            if table not in {"requests", "request_updates", "work_orders", "incidents"}:
                assert dump_sqlite(data / STORES[name])[table] == rows
    # request history only grows
    old_updates = set(before_rows["crm311"]["request_updates"])
    assert old_updates < set(dump_sqlite(data / STORES["crm311"])["request_updates"])

    after_manifest = manifest(data)
    assert all(ids <= after_manifest[key] for key, ids in before_manifest.items())
    found = mine(find_defects(data, new_as_of, START))
    assert {k: v for k, v in found.items()} == mine(after_manifest)
