"""Final-quarter allocation on hand-computed seasons: minimum share, shares by score, capacity caps,
withdrawn and ungraded contracts, the fallback to low grades, unallocated work, ties and rounding."""
from __future__ import annotations

import pandas as pd
import pytest

from citystat.contracts.allocation import AllocationRules, allocate, capacity_miles

GRADED_ON = pd.Timestamp("2024-09-30")
BIG = 100.0


def season(*entries):
    """entries: (contract_id, grade, score, remaining miles[, status]); completed miles are 1.0 each."""
    grades, contracts = [], []
    for rank, (contract_id, grade, score, remaining, *status) in enumerate(entries, start=1):
        grades.append({"season_year": 2024, "contract_id": contract_id, "vendor_id": f"VND-{contract_id[-1]}",
                       "vendor_name": f"Vendor {contract_id[-1]}", "region": "north", "status": (status or ["active"])[0],
                       "grade": grade, "score": score, "rank": rank, "graded_on": GRADED_ON,
                       "miles_completed": 0.0 if grade == "none" else 1.0,
                       "planned_miles": remaining + (0.0 if grade == "none" else 1.0)})
        contracts.append({"contract_id": contract_id, "start_date": pd.Timestamp("2024-04-01"),
                          "end_date": pd.Timestamp("2024-11-30")})
    return pd.DataFrame(grades), pd.DataFrame(contracts)


def run(entries, capacity=None, **rules):
    grades, contracts = season(*entries)
    caps = pd.Series(capacity if capacity is not None else {e[0]: BIG for e in entries}, dtype=float)
    table = allocate(grades, contracts, AllocationRules(**rules), capacity=caps)
    return table, table.set_index(table["contract_id"].fillna("unallocated"))["allocated_miles"].to_dict()


def test_the_documented_example_minimum_then_by_score():
    table, miles = run([("CTR-1", "A", 90.0, 4.0), ("CTR-2", "B", 60.0, 3.0), ("CTR-3", "F", 40.0, 3.0)])
    assert table["pool_miles"].unique().tolist() == [10.0]
    assert miles == {"CTR-1": 5.2, "CTR-2": 3.8, "CTR-3": 1.0}  # 1 each, then 7 mi as 90:60 = 4.2 + 2.8
    assert table["allocated_share"].tolist() == pytest.approx([0.52, 0.38, 0.10])
    assert table["minimum_miles"].tolist() == [1.0, 1.0, 1.0] and table["extra_miles"].tolist() == [4.2, 2.8, 0.0]
    assert "graded F, below C: no share of the rest" in table.iloc[2]["rule"]
    assert "score 90.0 of 150.0 among graded C or better contracts with room: 4.20 mi" in table.iloc[0]["rule"]


def test_capacity_caps_a_contract_and_its_excess_goes_to_the_others():
    table, miles = run([("CTR-1", "A", 90.0, 4.0), ("CTR-2", "B", 60.0, 3.0), ("CTR-3", "F", 40.0, 3.0)],
                       capacity={"CTR-1": 3.0, "CTR-2": BIG, "CTR-3": BIG})
    assert miles == {"CTR-1": 3.0, "CTR-2": 6.0, "CTR-3": 1.0}  # A takes 2 of its 4.2, B the other 5
    assert "capacity 3.00 mi reached: +2.00 mi" in table.iloc[0]["rule"]


def test_a_withdrawn_contractor_gets_nothing_and_its_work_is_shared():
    table, miles = run([("CTR-1", "A", 90.0, 2.0), ("CTR-2", "A", 90.0, 2.0), ("CTR-3", "B", 85.0, 6.0, "withdrawn")])
    assert miles == {"CTR-1": 5.0, "CTR-2": 5.0, "CTR-3": 0.0}  # the withdrawn contract's 6 mi included in the 10
    assert table.set_index("contract_id").loc["CTR-3", "capacity_miles"] == 0.0
    assert "withdrawn: gets nothing; its 6.00 remaining mi go to the others" in table.iloc[2]["rule"]


def test_an_ungraded_contractor_gets_only_the_minimum_share():
    table, miles = run([("CTR-1", "A", 90.0, 5.0), ("CTR-2", "none", None, 5.0)])
    assert miles == {"CTR-1": 9.0, "CTR-2": 1.0}
    assert "not graded (no completed work): minimum share only" in table.iloc[1]["rule"]


def test_low_grades_get_more_only_when_better_graded_contractors_are_full():
    table, miles = run([("CTR-1", "A", 90.0, 4.0), ("CTR-2", "B", 60.0, 3.0), ("CTR-3", "F", 40.0, 3.0)],
                       capacity={"CTR-1": 2.0, "CTR-2": 2.0, "CTR-3": BIG})
    assert miles == {"CTR-1": 2.0, "CTR-2": 2.0, "CTR-3": 6.0}
    assert "score 40.0 of 40.0 among graded contracts with room: 5.00 mi" in table.iloc[2]["rule"]


def test_work_nobody_has_capacity_for_is_left_unallocated():
    table, miles = run([("CTR-1", "A", 90.0, 4.0), ("CTR-2", "B", 60.0, 3.0), ("CTR-3", "F", 40.0, 3.0)],
                       capacity={"CTR-1": 2.0, "CTR-2": 2.0, "CTR-3": 1.0})
    assert miles == {"CTR-1": 2.0, "CTR-2": 2.0, "CTR-3": 1.0, "unallocated": 5.0}
    row = table[table["status"] == "unallocated"].iloc[0]
    assert pd.isna(row["contract_id"]) and row["allocated_share"] == 0.5 and "rebid" in row["rule"]


def test_equal_scores_share_equally_and_rounding_goes_to_the_best_ranked():
    table, miles = run([("CTR-1", "A", 95.0, 0.4), ("CTR-2", "A", 95.0, 0.3), ("CTR-3", "A", 95.0, 0.3)])
    # 0.1 each, then 0.7 / 3 = 0.2333 each: 0.33 x 3 = 0.99; the 0.01 left goes to rank 1
    assert miles == {"CTR-1": 0.34, "CTR-2": 0.33, "CTR-3": 0.33}
    assert sum(miles.values()) == pytest.approx(1.0)
    assert "rounding difference +0.01 mi" in table.iloc[0]["rule"]


def test_minimum_share_is_configurable_and_checked():
    _, miles = run([("CTR-1", "A", 90.0, 5.0), ("CTR-2", "F", 30.0, 5.0)], min_share=0.25)
    assert miles == {"CTR-1": 7.5, "CTR-2": 2.5}
    with pytest.raises(ValueError, match="min_share 1.5"):
        AllocationRules(min_share=1.5)


def test_capacity_is_the_larger_of_the_pace_so_far_and_the_own_plan_with_headroom():
    grades, contracts = season(("CTR-1", "A", 90.0, 0.1), ("CTR-2", "B", 85.0, 3.0), ("CTR-3", "none", None, 2.5))
    grades.loc[0:1, "miles_completed"] = 2.0
    caps = capacity_miles(grades, contracts)
    # 2.0 mi in the 183 days Apr 1 - Sep 30 -> 0.67 mi in the 61 days to Nov 30; x 1.5 headroom
    assert caps["CTR-1"] == round(2.0 / 183 * 61 * 1.5, 2) == 1.0
    assert caps["CTR-2"] == round((3.0 + 1.0 - 2.0) * 1.5, 2) == 3.0  # its own plan left (2.0 mi) is more than its pace
    assert caps["CTR-3"] == 2.5 * 1.5  # no pace yet: its own remaining planned miles
