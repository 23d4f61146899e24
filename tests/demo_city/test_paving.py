"""Paving weekly XLSX drops: structure, defect ground truth, the underperforming contractor, advance."""
from __future__ import annotations

import datetime as dt
import math
import sqlite3
from collections import defaultdict
from statistics import mean

import pytest
from systems_b_support import advance, as_date, digests, generate, make_ctx, manifest, read_sheet

from demo_city.reference import UNDERPERFORMING_VENDOR
from demo_city.systems import paving, procurement

DATASET = "pw_paving.paving_reports"
SCALE = 0.2


def reports(ctx) -> list[dict]:
    rows = []
    for path in sorted((ctx.out / "drops" / "paving").glob("paving_weekly_*.xlsx")):
        for row in read_sheet(path, paving.SHEET):
            row = {k: as_date(v) for k, v in row.items()}
            assert row["report_week"].isoformat() in path.name
            rows.append(row)
    return rows


def contract_ids(ctx) -> set[str]:
    con = sqlite3.connect(ctx.out / "procurement" / "portal.sqlite")
    try:
        return {r[0] for r in con.execute("SELECT contract_id FROM contracts")}
    finally:
        con.close()


def defects_found(rows, contracts) -> dict[str, set[str]]:
    found = {
        "closed_before_opened": {paving.record_id(r) for r in rows if r["actual_end"] and r["actual_end"] < r["actual_start"]},
        "orphan_key": {paving.record_id(r) for r in rows if r["contract_id"] not in contracts},
    }
    return {cls: ids for cls, ids in found.items() if ids}


@pytest.fixture(scope="module")
def dirty(tmp_path_factory):
    return generate(make_ctx(tmp_path_factory.mktemp("dirty"), scale=SCALE), procurement, paving)


@pytest.fixture(scope="module")
def clean(tmp_path_factory):
    return generate(make_ctx(tmp_path_factory.mktemp("clean"), scale=SCALE, clean=True), procurement, paving)


def test_manifest_lists_exactly_the_defective_rows(dirty):
    rows = reports(dirty)
    found = defects_found(rows, contract_ids(dirty))
    assert set(found) == {"closed_before_opened", "orphan_key"}
    assert found == manifest(dirty, DATASET)
    assert dirty.row_counts[DATASET] == len(rows)


def test_clean_reports_have_none_of_the_defects(clean):
    assert defects_found(reports(clean), contract_ids(clean)) == {}
    assert manifest(clean, DATASET) == {}


def test_weekly_reports_follow_each_segment_from_schedule_to_completion(clean):
    rows = reports(clean)
    weeks = sorted({r["report_week"] for r in rows})
    assert all(w.weekday() == 4 and 4 <= w.month <= 11 and w <= clean.as_of for w in weeks)
    by_segment = defaultdict(list)
    for r in rows:
        by_segment[r["segment_id"]].append(r)
    order = {"scheduled": 0, "in_progress": 1, "completed": 2}
    for segment, history in by_segment.items():
        history.sort(key=lambda r: r["report_week"])
        gaps = {(b["report_week"] - a["report_week"]).days for a, b in zip(history, history[1:])}
        assert gaps <= {7}, f"{segment} skips a week"
        statuses = [order[r["status"]] for r in history]
        assert statuses == sorted(statuses), f"{segment} goes backwards"
        assert [r["status"] for r in history].count("completed") <= 1, "listed until the week it completes"
        last = history[-1]
        if last["status"] == "completed":
            assert last["actual_start"] <= last["actual_end"] <= last["report_week"] and last["pci_after"] is not None
    contracts = {r["contract_id"] for r in rows}
    for year in procurement.paving_seasons(clean):
        for contract in procurement.paving_contracts(clean, year):
            if contract["contract_id"] in contracts:
                listed = {r["segment_id"] for r in rows if r["contract_id"] == contract["contract_id"]}
                assert len(listed) == contract["planned_segments"]
                low, high = procurement.SEGMENTS_PER_CONTRACT
                assert round(low * math.sqrt(SCALE)) <= len(listed) <= round(high * math.sqrt(SCALE))


def test_underperforming_contractor_is_worst_every_season(clean):
    latest = {}
    for r in reports(clean):
        if r["segment_id"] not in latest or r["report_week"] > latest[r["segment_id"]]["report_week"]:
            latest[r["segment_id"]] = r
    by = defaultdict(list)
    for r in latest.values():
        by[(r["report_week"].year, r["vendor_id"])].append(r)
    for year in {y for y, _ in by}:
        scores = {}
        for (y, vendor), segs in by.items():
            if y != year:
                continue
            done = [s for s in segs if s["status"] == "completed"]
            scores[vendor] = {
                "days_late": mean((s["actual_end"] - s["scheduled_end"]).days for s in done),
                "pci_gain": mean(s["pci_after"] - s["pci_before"] for s in done),
                "incidents": mean(s["parking_incidents"] + s["environmental_incidents"] for s in segs),
                "rework": mean(s["rework_required"] == "Y" for s in done),
            }
        bad, good = scores.pop(UNDERPERFORMING_VENDOR), scores.values()
        assert all(bad["days_late"] > g["days_late"] + 5 for g in good), year
        assert all(bad["pci_gain"] < g["pci_gain"] - 5 for g in good), year
        assert all(bad["incidents"] > g["incidents"] for g in good), year
        assert all(bad["rework"] >= g["rework"] for g in good), year


def test_same_seed_same_bytes_other_seed_differs(dirty, tmp_path):
    again = generate(make_ctx(tmp_path / "again", scale=SCALE), procurement, paving)
    mine = {k: v for k, v in digests(dirty.out).items() if k.startswith("drops/")}
    assert {k: v for k, v in digests(again.out).items() if k.startswith("drops/")} == mine
    other = generate(make_ctx(tmp_path / "other", scale=SCALE, seed=8), procurement, paving)
    theirs = {k: v for k, v in digests(other.out).items() if k.startswith("drops/")}
    assert set(theirs.values()).isdisjoint(mine.values())


def test_advance_adds_new_weeks_without_rewriting(tmp_path):
    ctx = generate(make_ctx(tmp_path / "grown", scale=SCALE, as_of=dt.date(2026, 7, 15)), procurement, paving)
    before = digests(ctx.out / "drops")
    advance(ctx, dt.date(2026, 8, 31), procurement, paving)
    after = digests(ctx.out / "drops")
    assert {k: after[k] for k in before} == before
    new_weeks = sorted(k for k in set(after) - set(before))
    assert new_weeks == [f"paving/paving_weekly_{d}.xlsx" for d in
                         ("2026-07-17", "2026-07-24", "2026-07-31", "2026-08-07", "2026-08-14", "2026-08-21", "2026-08-28")]
    direct = generate(make_ctx(tmp_path / "direct", scale=SCALE, as_of=dt.date(2026, 8, 31), start=ctx.start), procurement, paving)
    assert digests(direct.out / "drops") == after
    assert manifest(direct, DATASET) == manifest(ctx, DATASET)
