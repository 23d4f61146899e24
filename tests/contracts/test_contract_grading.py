"""In-season grading on hand-computed contracts: component points, the documented example, no work,
missing PCI readings, ties, and the grading day."""
from __future__ import annotations

import pandas as pd
import pytest

from citystat.contracts.grading import COMPONENTS, Component, GradingRules, grade_contracts, grading_day

from contract_builders import contract, data, graded_example, milestones, segment


def test_component_points_are_a_clipped_straight_line_in_either_direction():
    up = Component("x", "m", zero_at=0.5, full_at=1.0, weight=1, label="")
    down = Component("y", "m", zero_at=14, full_at=0, weight=1, label="")
    assert [up.points(v) for v in (0.4, 0.5, 0.8, 1.0, 1.2)] == pytest.approx([0, 0, 60, 100, 100])
    assert [down.points(v) for v in (-1, 0, 7, 14, 30)] == [100, 100, 50, 0, 0]
    assert up.points(None) is None and up.points(float("nan")) is None


def test_the_documented_example_scores_60_which_is_a_d():
    c, rows = graded_example()
    g = grade_contracts(data([c], milestones(), rows)).iloc[0]
    assert g["graded_on"] == pd.Timestamp("2024-09-30")
    points = {comp.name: g[f"{comp.name}_points"] for comp in COMPONENTS}
    assert points == {"progression": 60.0, "timeliness": 50.0, "pavement_quality": 75.0, "rework": 50.0,
                      "parking": 50.0, "environmental": 75.0}
    assert (g["progress_vs_plan"], g["avg_days_late"], g["avg_pci_after"], g["rework_share"]) == (0.8, 7.0, 85.0, 0.125)
    assert (g["parking_per_mile"], g["environmental_per_mile"]) == (2.5, 0.5)
    assert g["score"] == 60.0 and g["grade"] == "D"  # 0.25x60 + 0.15x(50+75+50+50+75); 60 is a D, not an F
    assert g["evidence"].startswith("8 of 10 segments due were completed (80%), mean 7.0 days late; PCI after 85.0")


def test_letters():
    rules = GradingRules()
    assert [rules.letter(s) for s in (100, 90, 89.9, 80, 70, 60, 59.9, 0)] == ["A", "A", "B", "B", "C", "D", "F", "F"]
    assert rules.letter(None) == "none"


def test_no_work_yet_is_not_graded_gray_none():
    c, rows = graded_example()
    idle = contract("CTR-2402", "VND-0002")
    idle_rows = [segment(1, "CTR-2402", start=None, end=None, sched_start="2024-10-05", sched_end="2024-10-10",
                         last_report="2024-11-29")]
    grades = grade_contracts(data([c, idle], milestones() + milestones("CTR-2402"), rows + idle_rows))
    idle_grade = grades[grades["contract_id"] == "CTR-2402"].iloc[0]
    assert pd.isna(idle_grade["score"]) and idle_grade["grade"] == "none"
    assert "no completed work by 2024-09-30: not graded" in idle_grade["notes"]
    assert all(pd.isna(idle_grade[f"{comp.name}_points"]) for comp in COMPONENTS)
    assert grades["contract_id"].tolist() == ["CTR-2401", "CTR-2402"]  # ungraded ranks last
    assert grades["rank"].tolist() == [1, 2]


def test_missing_pci_readings_drop_the_component_and_share_its_weight():
    c, rows = graded_example(pci_after=None)
    g = grade_contracts(data([c], milestones(), rows)).iloc[0]
    assert pd.isna(g["pavement_quality_points"]) and g["segments_missing_pci"] == 8
    # (0.25x60 + 0.15x(50 + 50 + 50 + 75)) / 0.85 = 48.75 / 0.85 = 57.35 -> F; a zero PCI would have scored 48.75
    assert g["score"] == 57.4 and g["grade"] == "F"
    assert "not measured, weight shared by the other components: pavement_quality" in g["notes"]


def test_equal_scores_are_ranked_by_vendor_id():
    a, a_rows = graded_example("CTR-2401", "VND-0002")
    b, b_rows = graded_example("CTR-2402", "VND-0001")
    grades = grade_contracts(data([a, b], milestones() + milestones("CTR-2402"), a_rows + b_rows))
    assert grades["score"].tolist() == [60.0, 60.0]
    assert grades["vendor_id"].tolist() == ["VND-0001", "VND-0002"] and grades["rank"].tolist() == [1, 2]


def test_grading_day_and_rules_validation():
    contracts = pd.DataFrame({"contract_id": ["C"], "start_date": [pd.Timestamp("2024-04-01")],
                              "end_date": [pd.Timestamp("2024-11-30")]})
    assert grading_day(contracts, 0.75)["C"] == pd.Timestamp("2024-09-30")  # 243 days x 0.75 = 182
    assert grading_day(contracts, 1.0)["C"] == pd.Timestamp("2024-11-30")
    with pytest.raises(ValueError, match="grading point 0"):
        GradingRules(at=0)
    with pytest.raises(ValueError, match="weights sum to 0.5"):
        GradingRules(components=COMPONENTS[:1] + (Component("x", "m", 0, 1, 0.25, ""),))


def test_a_later_grading_point_sees_later_work():
    c, rows = graded_example()
    late = grade_contracts(data([c], milestones(), rows), GradingRules(at=1.0)).iloc[0]
    assert late["segments_completed"] == 10  # the two October segments now count, with their incidents
    assert late["parking_points"] == 0.0 and late["score"] < 60
