"""Vendor scorecards over two hand-made seasons: season outcomes, lowest grade, history and the review flag."""
from __future__ import annotations

import pytest

from citystat.contracts.allocation import allocate
from citystat.contracts.grading import grade_contracts
from citystat.contracts.performance import contract_performance
from citystat.contracts.scorecards import vendor_scorecards

from contract_builders import contract, data, graded_example, milestones, segment


def good_contract(contract_id: str, vendor_id: str, year: int):
    """Four segments finished on time, PCI 95 after, no incident: every component at 100."""
    rows = [segment(n, contract_id, start=f"{year}-0{4 + n}-01", end=f"{year}-0{4 + n}-04", miles=0.5, pci=(40, 95))
            for n in range(1, 5)]
    return contract(contract_id, vendor_id, season_year=year, start_date=f"{year}-04-01", end_date=f"{year}-11-30",
                    planned_miles=2.0), rows


def shifted_milestones(contract_id: str, year: int):
    return [{**m, "due_date": f"{year}{m['due_date'][4:]}"} for m in milestones(contract_id)]


@pytest.fixture(scope="module")
def cards():
    contracts, benchmarks, segments = [], [], []
    for year, suffix in ((2024, "24"), (2025, "25")):
        good, good_rows = good_contract(f"CTR-{suffix}01", "VND-0001", year)
        weak, weak_rows = graded_example(f"CTR-{suffix}02", "VND-0003")
        weak.update(season_year=year, start_date=f"{year}-04-01", end_date=f"{year}-11-30")
        weak_rows = [{**r, **{k: f"{year}{r[k][4:]}" for k in ("last_report_week", "scheduled_start", "scheduled_end",
                                                               "actual_start", "actual_end") if r[k]}} for r in weak_rows]
        contracts += [good, weak]
        benchmarks += shifted_milestones(good["contract_id"], year) + shifted_milestones(weak["contract_id"], year)
        segments += good_rows + weak_rows
    d = data(contracts, benchmarks, segments)
    grades = grade_contracts(d)
    return vendor_scorecards(d, contract_performance(d), grades, allocate(grades, d.contracts)).set_index(
        ["vendor_id", "season_year"])


def test_season_outcomes_and_grades(cards):
    good, weak = cards.loc[("VND-0001", 2024)], cards.loc[("VND-0003", 2024)]
    assert (good["in_season_score"], good["in_season_grade"], good["season_rank"]) == (100.0, "A", 1)
    assert (weak["in_season_score"], weak["in_season_grade"], weak["season_rank"]) == (60.0, "D", 2)
    assert (good["lowest_in_season"], weak["lowest_in_season"]) == (False, True)
    assert good["avg_pci_after"] == 95.0 and good["on_time_share"] == 1.0 and good["miles_completed"] == 2.0
    assert weak["final_quarter_share"] < good["final_quarter_share"]
    assert weak["segments_completed"] == 10 and weak["avg_days_late"] > 0  # season-end outcomes, not the grading day's
    assert good["pool_earned_share"] == 1.0  # every benchmark met
    assert weak["season_complete"]


def test_history_to_date_and_review_flag(cards):
    first, second = cards.loc[("VND-0003", 2024)], cards.loc[("VND-0003", 2025)]
    assert (first["seasons_to_date"], first["seasons_lowest_to_date"], first["mean_score_to_date"]) == (1, 1, 60.0)
    assert first["review_flag"] and first["review_reason"] == "mean in-season score 60.0 < 70"
    assert (second["seasons_to_date"], second["seasons_lowest_to_date"]) == (2, 2)
    assert second["review_reason"] == "graded lowest in 2 of 2 seasons; mean in-season score 60.0 < 70"
    assert not cards.loc[("VND-0001", 2025), "review_flag"]
