"""Performance payment lines on a hand-computed contract: every component, penalties, pending, withdrawn, no work."""
from __future__ import annotations

import pytest

from citystat.contracts.payments import contract_totals, money, payment_lines

from contract_builders import BENCHMARKS, contract, data, milestones, segment

# Ten planned segments; nine completed through the season, one still open at the end.
# pool $100,000; penalty $500 per incident, $1,000 per day late.
SEGMENTS = [
    segment(1, start="2024-05-06", end="2024-05-10", parking=2),
    segment(2, start="2024-05-28", end="2024-06-01"),
    segment(3, start="2024-06-10", end="2024-06-13"),  # completed on the due date: counts
    segment(4, start="2024-07-15", end="2024-07-20", rework=True),
    segment(5, start="2024-08-05", end="2024-08-10"),
    segment(6, start="2024-09-10", end="2024-09-15"),
    segment(7, start="2024-09-25", end="2024-10-01"),
    segment(8, start="2024-10-14", end="2024-10-20"),
    segment(9, start="2024-11-15", end="2024-11-20"),
    segment(10, start="2024-11-25", end=None, parking=1, last_report="2024-11-29"),
]


def lines_of(frame, component):
    return frame[frame["component"] == component].reset_index(drop=True)


@pytest.fixture(scope="module")
def lines():
    return payment_lines(data([contract()], milestones(), SEGMENTS))


def test_progression_benchmarks_count_segments_completed_by_each_due_date(lines):
    progression = lines_of(lines, "progression")
    assert progression["actual"].tolist() == [0.3, 0.5, 0.7, 0.9]  # 3, 5, 7, 9 of 10 planned
    assert progression["status"].tolist() == ["met", "met", "missed", "missed"]  # 0.5 >= 0.5 is met
    assert progression["pool_share"].tolist() == [15_000.0] * 4
    assert progression["earned"].tolist() == [15_000.0, 15_000.0, 0.0, 0.0]
    assert progression["period"].tolist() == ["2024-06", "2024-08", "2024-10", "2024-11"]
    assert progression.loc[0, "reason"] == (
        "3 of 10 planned segments completed by 2024-06-13: 0.300 >= target 0.250: "
        "met, earned 15% of the $100,000 pool = $15,000")
    assert "7 of 10 planned segments completed by 2024-10-08: 0.700 < target 0.750: missed, earned $0 of $15,000" \
        == progression.loc[2, "reason"]


def test_quality_parking_and_environmental_are_shares_of_completed_segments(lines):
    quality, parking, environmental = (lines_of(lines, c).iloc[0] for c in ("quality", "parking", "environmental"))
    # 9 completed; SEG-241004 needed rework -> 8/9 < 0.90
    assert (round(quality["actual"], 4), quality["status"], quality["earned"]) == (0.8889, "missed", 0.0)
    assert quality["pool_share"] == 20_000.0
    assert "1 of 9 segments completed by 2024-11-30 needed rework within the 24-month warranty" in quality["reason"]
    # SEG-241001 had parking incidents -> 8/9 < 0.90; the open segment is not in the share
    assert (round(parking["actual"], 4), parking["status"]) == (0.8889, "missed")
    # no environmental incident -> 9/9 >= 0.95, earns 10% of the pool
    assert (environmental["actual"], environmental["status"], environmental["earned"]) == (1.0, "met", 10_000.0)


def test_incident_penalties_are_charged_in_the_month_the_segment_closed(lines):
    parking = lines_of(lines, "parking_incidents")
    assert parking["period"].tolist() == ["2024-05", "2024-11"]
    assert parking["actual"].tolist() == [2.0, 1.0]
    assert parking["penalty"].tolist() == [1_000.0, 500.0]  # 2 x $500; the open segment at the contract's end
    assert parking.loc[0, "reason"] == "2 parking incident(s) on 1 segment(s) completed in 2024-05 (SEG-241001): 2 x $500 = $1,000"
    assert "SEG-241010" in parking.loc[1, "reason"]
    assert lines_of(lines, "environmental_incidents").empty  # no environmental incident: no line


def test_days_late_counts_from_the_end_date_to_the_last_completion(lines):
    on_time = lines_of(lines, "days_late").iloc[0]
    assert (on_time["actual"], on_time["penalty"], on_time["period"]) == (0.0, 0.0, "2024-11")
    assert "last completion 2024-11-20, end date 2024-11-30: 0 day(s) late" in on_time["reason"]
    assert "1 segment(s) not completed are not charged per day" in on_time["reason"]

    late = SEGMENTS[:9] + [segment(10, start="2024-11-25", end="2024-12-05")]
    line = lines_of(payment_lines(data([contract()], milestones(), late)), "days_late").iloc[0]
    assert (line["actual"], line["penalty"]) == (5.0, 5_000.0)  # 5 days x $1,000


def test_totals_per_contract_and_period_add_up(lines):
    assert lines["earned"].sum() == 40_000.0  # 15,000 + 15,000 + 10,000
    assert lines["penalty"].sum() == 1_500.0
    assert (lines["net"] == lines["earned"] - lines["penalty"]).all()
    assert lines["line_no"].tolist() == list(range(1, len(lines) + 1))
    totals = contract_totals(lines).loc["CTR-2401"]
    assert (totals["performance_earned"], totals["penalties"], totals["performance_net"]) == (40_000.0, 1_500.0, 38_500.0)
    by_period = lines.groupby("period")["net"].sum()
    assert by_period["2024-06"] == 15_000.0 and by_period["2024-05"] == -1_000.0


def test_benchmarks_not_yet_due_are_pending_and_a_withdrawn_contract_forfeits_them():
    early = SEGMENTS[:6]
    pending = payment_lines(data([contract(status="active")], milestones(), early, data_through="2024-09-01"))
    benchmarks = pending[pending["line_kind"] == "benchmark"]
    assert benchmarks["status"].tolist() == ["met", "met", "pending", "pending", "pending", "pending", "pending"]
    assert benchmarks["assessed_on"].isna().tolist() == [False, False, True, True, True, True, True]
    assert benchmarks.iloc[2]["reason"] == "due 2024-10-08, after the latest report (2024-09-01): not assessed yet"
    assert not (pending["component"] == "days_late").any()  # the end date has not passed

    withdrawn = payment_lines(data([contract(status="withdrawn")], milestones(), early, data_through="2024-09-01"))
    benchmarks = withdrawn[withdrawn["line_kind"] == "benchmark"]
    assert benchmarks["status"].tolist() == ["met", "met", "forfeited", "forfeited", "forfeited", "forfeited", "forfeited"]
    assert benchmarks["earned"].sum() == 30_000.0
    assert "contract withdrawn" in benchmarks.iloc[2]["reason"]


def test_no_work_yet_earns_nothing_and_says_why():
    lines = payment_lines(data([contract()], milestones(), []))
    benchmarks = lines[lines["line_kind"] == "benchmark"]
    assert benchmarks["earned"].sum() == 0 and set(benchmarks["status"]) == {"missed"}
    assert benchmarks.iloc[0]["reason"].startswith("no segments in the contract's reports by 2024-06-13")
    assert benchmarks.iloc[4]["reason"].startswith("no segments completed by 2024-11-30: nothing to assess")
    assert benchmarks["actual"].isna().all()  # not a zero: nothing was measured
    days_late = lines[lines["component"] == "days_late"].iloc[0]
    assert days_late["penalty"] == 0 and "no segment completed" in days_late["reason"]

    before_season = payment_lines(data([contract(status="active")], milestones(), [], data_through="2024-03-15"))
    assert set(before_season["status"]) == {"pending"} and before_season["earned"].sum() == 0


def test_weights_that_do_not_sum_to_one_are_noted_with_the_unpayable_amount():
    lines = payment_lines(data([contract()], milestones(benchmarks=BENCHMARKS[:-1]), SEGMENTS))
    note = lines[lines["line_kind"] == "note"].iloc[0]
    assert (note["actual"], note["earned"], note["penalty"]) == (0.9, 0.0, 0.0)
    assert "$10,000 of the $100,000 pool has no benchmark" in note["reason"]


def test_money_is_written_as_an_officer_reads_it():
    assert [money(x) for x in (15_000, 53_985.0, 12.5, 0, -21_750)] == ["$15,000", "$53,985", "$12.50", "$0", "-$21,750"]
