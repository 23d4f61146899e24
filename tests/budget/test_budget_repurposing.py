"""Repurposing candidates: alternatives in the same programme and service area, savings and outcome change by hand."""
from __future__ import annotations

import pandas as pd
import pytest

from citystat.budget.repurposing import repurposing_candidates

MONTHS = ["2026-05", "2026-06", "2026-07", "2026-08", "2026-09", "2026-10"]


def _site(site_id: str, area: str, capacity: float, enrollment: float, outcome: float, cost: float,
          programme: str = "hs_senior_centres", target: float = 70.0) -> list[dict]:
    return [{"site_id": site_id, "site_name": f"{site_id} centre", "program_code": programme, "service_area": area,
             "period": m, "capacity": capacity, "enrollment": enrollment, "outcome_value": outcome,
             "outcome_target": target, "monthly_cost": cost} for m in MONTHS]


def _failing(*site_ids: str) -> pd.DataFrame:
    return pd.DataFrame([{"entity_type": "site", "entity_id": s, "window_start": MONTHS[0], "window_end": MONTHS[-1]}
                         for s in site_ids])


def test_savings_and_outcome_change_of_moving_a_failing_site_worked_by_hand():
    sites = pd.DataFrame(
        _site("F", "east", 100, 60, 50.0, 100_000)  # failing: 60 clients, $100k a month, 50% vs 70%
        + _site("A", "east", 100, 70, 80.0, 100_000)  # meets target, 30 spare places, $1,000 per place
        + _site("B", "west", 100, 10, 90.0, 50_000)  # better, but serves another area
        + _site("C", "east", 100, 20, 65.0, 50_000)  # same area, spare places, misses its target
        + _site("D", "east", 100, 100, 90.0, 80_000)  # same area, meets target, no spare place
        + _site("K", "east", 100, 10, 95.0, 50_000, programme="hs_child_care"))  # another programme
    table = repurposing_candidates(sites, _failing("F"), marginal_cost_share=0.25)
    assert len(table) == 1
    row = table.iloc[0]
    assert (row["failing_site_id"], row["alternative_site_id"], row["alternative_rank"]) == ("F", "A", 1)
    assert (row["clients_to_move"], row["alternative_spare_places"]) == (60.0, 30.0)
    assert (row["places_in_spare_capacity"], row["places_to_add"], row["absorbs_all_clients"]) == (30.0, 30.0, False)
    assert row["alternative_cost_per_place"] == pytest.approx(1000.0)
    # 30 spare places x 25% x $1,000 + 30 new places x $1,000 = $37,500 a month
    assert row["cost_of_moved_clients_monthly"] == pytest.approx(37_500.0)
    assert row["estimated_monthly_savings"] == pytest.approx(62_500.0)
    assert row["estimated_annual_savings"] == pytest.approx(750_000.0)
    assert row["estimated_outcome_change_pts"] == pytest.approx(30.0)
    assert row["estimated_additional_outcomes_per_month"] == pytest.approx(18.0)  # 60 clients x 30 points
    assert row["alternative_months_met_target"] == 6
    assert "25%" in row["assumptions"] and "saves ~$750,000 a year" in row["explanation"]


def test_alternatives_are_ranked_by_savings_and_one_with_room_for_all_adds_no_places():
    sites = pd.DataFrame(_site("F", "east", 100, 60, 50.0, 100_000)
                         + _site("A", "east", 100, 70, 80.0, 100_000)
                         + _site("E", "east", 200, 100, 75.0, 200_000))  # 100 spare places, $1,000 per place
    table = repurposing_candidates(sites, _failing("F"))
    assert table["alternative_site_id"].tolist() == ["E", "A"]
    best = table.iloc[0]
    assert best["absorbs_all_clients"] and best["places_to_add"] == 0
    assert best["estimated_monthly_savings"] == pytest.approx(100_000 - 60 * 0.25 * 1000)  # $85,000


def test_a_failing_site_with_no_alternative_still_gets_a_row():
    sites = pd.DataFrame(_site("F", "east", 100, 60, 50.0, 100_000) + _site("B", "west", 100, 10, 90.0, 50_000))
    table = repurposing_candidates(sites, _failing("F"))
    assert len(table) == 1
    row = table.iloc[0]
    assert pd.isna(row["alternative_site_id"]) and pd.isna(row["alternative_rank"])
    assert "no alternative nearby" in row["explanation"]


def test_another_failing_site_is_never_an_alternative():
    sites = pd.DataFrame(_site("F", "east", 100, 60, 50.0, 100_000) + _site("G", "east", 100, 20, 80.0, 100_000))
    table = repurposing_candidates(sites, _failing("F", "G"))
    assert table["alternative_site_id"].isna().all() and len(table) == 2


def test_marginal_cost_share_must_be_a_share():
    with pytest.raises(ValueError, match="marginal_cost_share"):
        repurposing_candidates(pd.DataFrame(_site("F", "east", 1, 1, 1, 1)), _failing("F"), marginal_cost_share=1.5)
