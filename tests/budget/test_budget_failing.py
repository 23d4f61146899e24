"""The failing rule: red in at least N of the last M months, with the evidence; colours from the KPI status engine."""
from __future__ import annotations

import json

import pandas as pd
import pytest

from citystat.budget.failing import check_rule, red_in_n_of_m
from citystat.budget.outcomes import site_status

MONTHS = ["2025-11", "2025-12", "2026-01", "2026-02", "2026-03", "2026-04"]


def _status(entity: str, statuses: str, months: list[str] = MONTHS, entity_type: str = "site") -> list[dict]:
    """One row per month from a string like 'RgRyRR' (R red, y yellow, g green, '-' no row for the month)."""
    colour = {"R": "red", "y": "yellow", "g": "green"}
    return [{"entity_type": entity_type, "entity_id": entity, "entity_name": f"{entity} name", "program_code": "prog",
             "department_code": "hs", "service_area": "east", "outcome_measure": "pct", "period": month,
             "value": 50.0 if code == "R" else 70.0, "target": 70.0, "status": colour[code], "status_reason": code}
            for month, code in zip(months, statuses) if code != "-"]


def test_red_in_exactly_n_of_m_fails_and_one_fewer_does_not():
    frame = pd.DataFrame(_status("A", "RgRyRR") + _status("B", "RgRygR"))
    failing = red_in_n_of_m(frame, red_periods=4, window=6)
    assert failing["entity_id"].tolist() == ["A"]
    row = failing.iloc[0]
    assert (row["red_periods"], row["window_periods"], row["window_start"], row["window_end"]) == (4, 6, "2025-11", "2026-04")
    assert row["red_period_list"] == "2025-11, 2026-01, 2026-03, 2026-04"
    assert row["rule"] == "red in >= 4 of the last 6 months"
    assert (row["latest_status"], row["latest_value"], row["latest_target"]) == ("red", 50.0, 70.0)
    assert row["mean_value_in_window"] == pytest.approx((4 * 50 + 2 * 70) / 6)


def test_only_the_last_m_months_count():
    # seven months: the oldest red falls outside a six-month window, leaving 3 red
    months = ["2025-10", *MONTHS]
    frame = pd.DataFrame(_status("C", "RRggyRR", months))
    assert red_in_n_of_m(frame, 4, 6).empty
    assert red_in_n_of_m(frame, 4, 7)["entity_id"].tolist() == ["C"]


def test_a_month_without_data_counts_as_not_red_and_shows_in_the_evidence():
    frame = pd.DataFrame(_status("D", "RR-RRR"))
    assert red_in_n_of_m(frame, 6, 6).empty  # five red months and a gap: the gap is not red
    row = red_in_n_of_m(frame, 5, 6).iloc[0]
    evidence = json.loads(row["evidence"])
    assert [e["period"] for e in evidence] == MONTHS
    assert evidence[2] == {"period": "2026-01", "value": None, "target": None, "status": "no data",
                           "status_reason": "no row for the month"}
    assert [e["status"] for e in evidence] == ["red", "red", "no data", "red", "red", "red"]
    assert row["red_periods"] == 5


def test_an_entity_that_stopped_reporting_is_not_judged():
    stale = _status("E", "RRRR", ["2025-05", "2025-06", "2025-07", "2025-08"])
    frame = pd.DataFrame(stale + _status("F", "gggggg"))  # the table runs to 2026-04
    assert red_in_n_of_m(frame, 4, 6).empty


def test_the_window_ends_at_each_entity_latest_month():
    # a KPI submitted a month late is judged on its own last six months, not on a window with an empty month
    late = _status("kpi_x", "RRRR", ["2025-12", "2026-01", "2026-02", "2026-03"], entity_type="kpi")
    frame = pd.DataFrame(late + _status("F", "gggggg"))
    row = red_in_n_of_m(frame, 4, 6).iloc[0]
    assert (row["entity_id"], row["window_end"], row["window_start"]) == ("kpi_x", "2026-03", "2025-10")


def test_sites_are_listed_before_kpis():
    frame = pd.DataFrame(_status("kpi_y", "RRRRRR", entity_type="kpi") + _status("S", "RRRRgg"))
    assert red_in_n_of_m(frame, 4, 6)["entity_id"].tolist() == ["S", "kpi_y"]


def test_one_of_one_is_the_smallest_rule():
    frame = pd.DataFrame(_status("G", "gggggR"))
    assert red_in_n_of_m(frame, 1, 1)["entity_id"].tolist() == ["G"]


@pytest.mark.parametrize("n, m", [(0, 6), (7, 6), (1, 0)])
def test_impossible_rules_are_refused(n, m):
    with pytest.raises(ValueError, match="must be"):
        check_rule(n, m)


def test_site_colours_come_from_the_kpi_status_engine():
    # LouieStat bands as the engine applies them: exactly 10% below target is still yellow, beyond is red
    sites = pd.DataFrame([
        {"site_id": "S1", "site_name": "One", "program_code": "hs_senior_centres", "department_code": "hs",
         "service_area": "east", "period": period, "capacity": 100.0, "enrollment": 80.0, "outcome_measure": "pct",
         "outcome_target": 70.0, "outcome_value": value, "monthly_cost": 1000.0}
        for period, value in [("2026-01", 70.0), ("2026-02", 63.0), ("2026-03", 62.9)]])
    table = site_status(sites)
    assert table["status"].tolist() == ["green", "yellow", "red"]
    assert table["score"].tolist() == pytest.approx([1.0, 0.9, 62.9 / 70])
    assert "beyond the 10% band" in table["status_reason"].iloc[2]
