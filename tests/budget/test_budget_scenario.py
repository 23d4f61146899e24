"""The least-harm cut scenario on a small programme table where the answer is obvious by hand."""
from __future__ import annotations

import pandas as pd
import pytest

from citystat.budget.scenario import (
    CONSOLIDATE, CONSOLIDATE_AND_CUT, CUT_TO_FLOOR, NOT_NEEDED, PARTIAL_CUT, PROTECTED, UNMEASURED,
    parse_percent, propose_cut,
)

# total base budget $5,000,000; a 10% cut is $500,000; with an 80% floor each programme gives at most 20%
PROGRAMMES = pd.DataFrame([
    {"program_code": "a_weak", "base_budget": 1_000_000.0, "outcome_per_dollar": 0.5, "outcome_index": 0.5,
     "execution_pct": 100.0, "cost_per_outcome": 1_000.0, "outcome_measure": "visits"},
    {"program_code": "b_strong", "base_budget": 1_000_000.0, "outcome_per_dollar": 1.2, "outcome_index": 1.2, "execution_pct": 100.0},
    {"program_code": "c_middling", "base_budget": 2_000_000.0, "outcome_per_dollar": 0.8, "outcome_index": 0.8, "execution_pct": 100.0},
    {"program_code": "d_unmeasured", "base_budget": 1_000_000.0, "outcome_per_dollar": float("nan")},
])


def _by_code(scenario) -> pd.DataFrame:
    return scenario.table.set_index("program_code")


def test_lowest_outcome_per_dollar_is_cut_first_down_to_its_floor_then_the_next_as_far_as_needed():
    scenario = propose_cut(PROGRAMMES, 10.0)
    table = _by_code(scenario)
    assert (scenario.base_total, scenario.target_amount, scenario.proposed_total) == (5_000_000.0, 500_000.0, 500_000.0)
    assert scenario.shortfall == 0
    assert table.loc["a_weak", "proposed_cut"] == pytest.approx(200_000.0)  # 20% of $1M, to the floor
    assert table.loc["c_middling", "proposed_cut"] == pytest.approx(300_000.0)  # the remaining $300k of $400k room
    assert table.loc["b_strong", "proposed_cut"] == 0 and table.loc["d_unmeasured", "proposed_cut"] == 0
    assert table.loc["a_weak", "decision"] == CUT_TO_FLOOR and table.loc["c_middling", "decision"] == PARTIAL_CUT
    assert table.loc["b_strong", "decision"] == NOT_NEEDED and table.loc["d_unmeasured", "decision"] == UNMEASURED
    assert table.loc["a_weak", "step"] == 1 and table.loc["c_middling", "step"] == 2 and pd.isna(table.loc["b_strong", "step"])
    assert scenario.table["program_code"].tolist()[:2] == ["a_weak", "c_middling"]  # in the order the money was found


def test_every_choice_is_explained_with_the_outcomes_it_costs():
    table = _by_code(propose_cut(PROGRAMMES, 10.0))
    weak = table.loc["a_weak"]
    assert weak["outcome_per_dollar_rank"] == 1 and weak["new_budget"] == pytest.approx(800_000.0)
    assert weak["est_outcome_change_pct"] == pytest.approx(-20.0)
    assert weak["est_outcomes_lost_per_year"] == pytest.approx(200.0)  # $200k / $1,000 per outcome
    assert weak["explanation"].startswith("Lowest outcome per dollar of 3 measured programmes (0.50")
    assert "down to its 80% floor" in weak["explanation"] and "~200 visits a year" in weak["explanation"]
    assert table.loc["c_middling", "explanation"].startswith("2nd lowest outcome per dollar")
    assert "cut was found before reaching it" in table.loc["b_strong", "explanation"]
    assert "cannot be judged" in table.loc["d_unmeasured", "explanation"]
    assert table.loc["c_middling", "est_outcome_change_pct"] == pytest.approx(-15.0)


def test_a_cut_larger_than_the_floors_allow_reports_the_shortfall():
    scenario = propose_cut(PROGRAMMES, 30.0)  # $1.5M asked; room: 200k + 400k + 200k = $800k
    assert scenario.proposed_total == pytest.approx(800_000.0)
    assert scenario.shortfall == pytest.approx(700_000.0)
    assert "$700,000 short" in scenario.summary()


def test_protected_programmes_and_per_programme_floors_are_respected():
    protected = _by_code(propose_cut(PROGRAMMES, 10.0, protected={"a_weak"}))
    assert protected.loc["a_weak", "proposed_cut"] == 0 and protected.loc["a_weak", "decision"] == PROTECTED
    assert protected.loc["c_middling", "proposed_cut"] == pytest.approx(400_000.0)  # to its floor
    assert protected.loc["b_strong", "proposed_cut"] == pytest.approx(100_000.0)

    floors = PROGRAMMES.assign(floor_share=[0.95, None, None, None])  # a_weak may lose only 5%
    table = _by_code(propose_cut(floors, 10.0))
    assert table.loc["a_weak", "proposed_cut"] == pytest.approx(50_000.0)
    assert table.loc["c_middling", "proposed_cut"] == pytest.approx(400_000.0)
    assert table.loc["b_strong", "proposed_cut"] == pytest.approx(50_000.0)


def test_consolidations_come_first_and_count_against_the_floor():
    consolidations = pd.DataFrame([{"program_code": "b_strong", "annual_savings": 150_000.0, "description": "merge S3 into S1"}])
    table = _by_code(propose_cut(PROGRAMMES, 10.0, consolidations=consolidations))
    strong = table.loc["b_strong"]
    assert (strong["step"], strong["consolidation_savings"], strong["service_cut"]) == (1, 150_000.0, 0.0)
    assert strong["decision"] == CONSOLIDATE and strong["est_outcome_change_pct"] == 0
    assert "merge S3 into S1" in strong["explanation"]
    assert table.loc["a_weak", "proposed_cut"] == pytest.approx(200_000.0)
    assert table.loc["c_middling", "proposed_cut"] == pytest.approx(150_000.0)

    # consolidating a weak programme uses part of its 20% room; the service cut takes the rest
    weak_merge = pd.DataFrame([{"program_code": "a_weak", "annual_savings": 50_000.0, "description": "merge"}])
    weak = _by_code(propose_cut(PROGRAMMES, 10.0, consolidations=weak_merge)).loc["a_weak"]
    assert (weak["consolidation_savings"], weak["service_cut"], weak["decision"]) == (50_000.0, 150_000.0, CONSOLIDATE_AND_CUT)


@pytest.mark.parametrize("text, value", [("7.6%", 7.6), ("7.6", 7.6), (" 12 % ", 12.0), ("0.5%", 0.5)])
def test_parse_percent(text, value):
    assert parse_percent(text) == value


@pytest.mark.parametrize("text", ["seven", "0%", "100%", "-5%", "7.6%%"])
def test_parse_percent_refuses_nonsense(text):
    with pytest.raises(ValueError, match="cut"):
        parse_percent(text)


def test_bad_programme_tables_are_refused_with_the_reason():
    with pytest.raises(ValueError, match="more than once"):
        propose_cut(pd.concat([PROGRAMMES, PROGRAMMES.head(1)]), 5.0)
    with pytest.raises(ValueError, match="missing column"):
        propose_cut(PROGRAMMES.drop(columns=["outcome_per_dollar"]), 5.0)
    with pytest.raises(ValueError, match="base_budget must be"):
        propose_cut(PROGRAMMES.assign(base_budget=[1.0, -1.0, 1.0, 1.0]), 5.0)
