"""Procurement portal store: SODA tables, results-driven paving contracts, status changes moving :updated_at."""
from __future__ import annotations

import datetime as dt
import re
import sqlite3

import pytest
from systems_b_support import advance, generate, make_ctx

from demo_city.reference import PAVING_REGIONS, PAVING_VENDORS, VENDORS
from demo_city.systems import procurement

SODA_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}-0[45]:00$")


def tables(ctx) -> dict[str, list[dict]]:
    con = sqlite3.connect(ctx.out / "procurement" / "portal.sqlite")
    con.row_factory = sqlite3.Row
    try:
        return {t: [dict(r) for r in con.execute(f'SELECT * FROM {t} ORDER BY ":id"')] for t in procurement.COLUMNS}
    finally:
        con.close()


@pytest.fixture(scope="module")
def portal(tmp_path_factory):
    ctx = generate(make_ctx(tmp_path_factory.mktemp("portal")), procurement)
    return ctx, tables(ctx)


def test_tables_follow_the_contract(portal):
    ctx, data = portal
    for table, rows in data.items():
        assert rows, table
        assert list(rows[0]) == procurement.COLUMNS[table] + [":id", ":updated_at"]
        assert len({r[":id"] for r in rows}) == len(rows)
        assert all(SODA_TIME.match(r[":updated_at"]) and r[":updated_at"][:10] <= ctx.as_of.isoformat() for r in rows)
        assert ctx.row_counts[f"proc_portal.{table}"] == len(rows)
    assert [(v["vendor_id"], v["vendor_name"]) for v in sorted(data["vendors"], key=lambda v: v["vendor_id"])] == VENDORS
    assert all("@" in v["contact_email"] and v["contact_name"] for v in data["vendors"])
    assert {c["vendor_id"] for c in data["contracts"]} <= {v for v, _ in VENDORS}


def test_three_regional_results_driven_paving_contracts_per_season(portal):
    _, data = portal
    paving = [c for c in data["contracts"] if c["contract_type"] == "results_driven"]
    seasons = sorted({c["season_year"] for c in paving})
    assert seasons == [2024, 2025, 2026]  # seasons starting inside the history (July 2023 .. Oct 2026)
    milestones = data["contract_milestones"]
    for year in seasons:
        season = [c for c in paving if c["season_year"] == year]
        assert sorted(c["region"] for c in season) == sorted(PAVING_REGIONS)
        assert sorted(c["vendor_id"] for c in season) == sorted(PAVING_VENDORS)
        assert 7.5e6 <= sum(c["total_value"] for c in season) <= 9.5e6
        for c in season:
            assert c["base_payment"] + c["performance_pool"] == pytest.approx(c["total_value"])
            assert 0.10 <= c["performance_pool"] / c["total_value"] <= 0.15
            assert c["penalty_per_day_late"] > 0 and c["penalty_per_incident"] > 0 and c["warranty_months"] >= 24
            assert c["planned_miles"] > 0 and c["program_code"] == "pw_resurfacing"
            own = [m for m in milestones if m["contract_id"] == c["contract_id"]]
            assert sum(m["weight"] for m in own) == pytest.approx(1.0)
            assert {m["metric"] for m in own} == {"progression", "quality", "parking", "environmental"}
            progression = sorted((m["due_date"], m["target_share"]) for m in own if m["metric"] == "progression")
            assert [t for _, t in progression] == [0.25, 0.5, 0.75, 1.0]
            assert c["start_date"] < progression[0][0] and progression[-1][0] <= c["end_date"]
    # the contractor rotates over regions, so underperformance is not one region's streets
    assert len({c["region"] for c in paving if c["vendor_id"] == "VND-0003"}) > 1


def test_non_paving_contracts_for_many_departments(portal):
    ctx, data = portal
    others = [c for c in data["contracts"] if c["contract_type"] != "results_driven"]
    assert len({c["department_code"] for c in others}) >= 8
    assert all(c["season_year"] is None and c["planned_miles"] is None for c in others)
    for c in data["contracts"]:
        if c["status"] == "completed":
            assert c[":updated_at"][:10] > c["end_date"]
        if c["status"] == "active":  # closed out within about two weeks of the end date
            assert dt.date.fromisoformat(c["end_date"]) + dt.timedelta(days=15) >= ctx.as_of


def test_same_seed_same_contents_other_seed_differs(portal, tmp_path):
    _, data = portal
    assert tables(generate(make_ctx(tmp_path / "again"), procurement)) == data
    other = tables(generate(make_ctx(tmp_path / "other", seed=8), procurement))
    assert other["contracts"] != data["contracts"]


def test_advance_updates_status_and_inserts_new_awards(tmp_path):
    start = dt.date(2022, 7, 1)
    ctx = generate(make_ctx(tmp_path / "grown", as_of=dt.date(2025, 12, 1), start=start), procurement)
    before = {r["contract_id"]: r for r in tables(ctx)["contracts"]}
    assert before["CTR-2501"]["status"] == "active"
    advance(ctx, dt.date(2026, 3, 31), procurement)
    after = tables(ctx)
    contracts = {r["contract_id"]: r for r in after["contracts"]}
    season_2025 = contracts["CTR-2501"]
    assert season_2025["status"] == "completed" and season_2025[":updated_at"] == "2025-12-15T11:00:00-05:00"
    assert season_2025[":id"] == before["CTR-2501"][":id"]
    assert {"CTR-2601", "CTR-2602", "CTR-2603"} <= set(contracts) - set(before), "next season's awards appear"
    for cid, row in before.items():
        if contracts[cid][":updated_at"] == row[":updated_at"]:
            assert contracts[cid] == row, "rows that did not change keep their contents"
        else:
            assert contracts[cid][":updated_at"] > "2025-12-01"
    direct = generate(make_ctx(tmp_path / "direct", as_of=dt.date(2026, 3, 31), start=start), procurement)
    assert tables(direct) == after


def test_advance_without_a_generated_portal_names_the_missing_store(tmp_path):
    ctx = make_ctx(tmp_path)
    with pytest.raises(FileNotFoundError, match="portal.sqlite"):
        advance(ctx, dt.date(2026, 11, 30), procurement)
