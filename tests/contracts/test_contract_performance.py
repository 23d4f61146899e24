"""Contract metrics on a hand-computed contract: schedule, quality with a missing PCI reading, an
unreported segment, incidents, 311 complaints in work zones, cost, and the monthly table."""
from __future__ import annotations

import pandas as pd
import pytest

from citystat.contracts.performance import contract_metrics, contract_performance, work_zone_complaints

from contract_builders import contract, data, milestones, segment

# planned 1.0 mi, base $1,000,000, pool $100,000, $500 per incident
SEGMENTS = [
    segment(1, start="2024-05-01", end="2024-05-05", miles=0.3, pci=(40, 90), parking=1),  # on time
    segment(2, start="2024-05-11", end="2024-05-15", sched_start="2024-05-10", sched_end="2024-05-12",
            miles=0.2, pci=(50, 80), environmental=1),  # 3 days late
    segment(3, start="2024-06-01", end="2024-06-03", miles=0.25, pci=(60, None)),  # no PCI after: left out
    segment(4, start="2024-06-20", end=None, sched_end="2024-06-22", miles=0.1, last_report="2024-06-21"),  # left the reports
    segment(5, start=None, end=None, sched_start="2024-11-01", sched_end="2024-11-05", miles=0.15, last_report="2024-11-29"),
]
REQUESTS = [
    {"service_request_id": "SR-1", "service_code": "POTHOLE", "requested_at": "2024-05-03 09:00:00", "address": "120 Oak St"},
    {"service_request_id": "SR-2", "service_code": "NOISE", "requested_at": "2024-05-12 22:10:00", "address": "7 OAK  ST."},
    {"service_request_id": "SR-3", "service_code": "MISSED_TRASH", "requested_at": "2024-05-12 08:00:00", "address": "9 Oak St"},
    {"service_request_id": "SR-4", "service_code": "POTHOLE", "requested_at": "2024-07-01 10:00:00", "address": "9 Oak St"},
    {"service_request_id": "SR-5", "service_code": "POTHOLE", "requested_at": "2024-05-03 10:00:00", "address": "33 Elm St"},
    {"service_request_id": "SR-6", "service_code": "SIDEWALK", "requested_at": "2024-06-20 12:00:00", "address": "120 Oak St"},
]


@pytest.fixture(scope="module")
def city():
    return data([contract(planned_miles=1.0)], milestones(), SEGMENTS, REQUESTS)


@pytest.fixture(scope="module")
def season_end(city):
    return contract_metrics(city).iloc[0]


def test_schedule_metrics(season_end):
    m = season_end
    assert m["as_of"] == pd.Timestamp("2024-11-30")  # the contract's end: later reports say nothing more
    assert (m["planned_segments"], m["segments_completed"], m["miles_completed"]) == (5, 3, 0.75)
    assert (m["share_segments_completed"], m["share_miles_completed"]) == (0.6, 0.75)
    assert (m["segments_due"], m["progress_vs_plan"], m["segments_overdue"]) == (5, 0.6, 2)
    assert (m["segments_on_time"], m["days_late_total"], m["avg_days_late"]) == (2, 3, 1.0)
    assert m["on_time_share"] == pytest.approx(2 / 3)


def test_missing_pci_is_left_out_with_a_note_not_counted_as_zero(season_end):
    m = season_end
    assert (m["pci_readings"], m["segments_missing_pci"]) == (2, 1)
    assert (m["avg_pci_before"], m["avg_pci_after"], m["avg_pci_improvement"]) == (45.0, 85.0, 40.0)
    assert "1 completed segment(s) without a PCI reading, left out of the PCI averages: SEG-241003" in m["notes"]


def test_a_segment_that_left_the_reports_counts_as_not_completed_and_is_named(season_end):
    assert season_end["segments_unreported"] == 1
    assert "counted as not completed: SEG-241004 (last reported 2024-06-21)" in season_end["notes"]


def test_the_segments_a_note_names_are_listed_by_id_whatever_order_they_were_read_in():
    """The marts are read in no set order: a daily-built warehouse and a full refresh must write the same note."""
    left = [segment(7, start="2024-06-20", end=None, sched_end="2024-06-22", last_report="2024-06-21"),
            segment(6, start="2024-05-20", end=None, sched_end="2024-05-22", last_report="2024-05-24"),
            segment(9, start="2024-06-20", end="2024-06-25", pci=(60, None)),  # the latest report: 2024-06-28
            segment(8, start="2024-05-01", end="2024-05-03", pci=(60, None))]
    for rows in (left, left[::-1]):
        notes = contract_metrics(data([contract(planned_miles=1.0)], milestones(), rows)).iloc[0]["notes"]
        assert "without a PCI reading, left out of the PCI averages: SEG-241008, SEG-241009" in notes
        assert ("counted as not completed: SEG-241006 (last reported 2024-05-24), SEG-241007 (last reported "
                "2024-06-21)") in notes


def test_incidents_and_quality_shares(season_end):
    m = season_end
    assert (m["segments_rework"], m["rework_share"]) == (0, 0.0)
    assert m["miles_closed_out"] == 1.0  # the season is over: the open segments are closed out too
    assert (m["parking_incidents"], m["environmental_incidents"]) == (1, 1)
    assert (m["parking_per_mile"], m["environmental_per_mile"]) == (1.0, 1.0)
    assert m["share_no_parking"] == pytest.approx(2 / 3) and m["share_no_environmental"] == pytest.approx(2 / 3)


def test_complaints_in_work_zones_match_street_type_and_work_window(city, season_end):
    matched = work_zone_complaints(city)
    assert sorted(zip(matched["service_request_id"], matched["segment_id"])) == [
        ("SR-1", "SEG-241001"),  # same street, during the work
        ("SR-2", "SEG-241002"),  # house number, case, punctuation and spacing ignored
        ("SR-6", "SEG-241004"),  # on the first day of an open segment
    ]  # SR-3 wrong type, SR-4 after the open segment's last report, SR-5 other street
    assert (season_end["complaints"], season_end["complaints_per_mile"]) == (3, 3.0)

    without_311 = contract_metrics(data([contract(planned_miles=1.0)], milestones(), SEGMENTS)).iloc[0]
    assert pd.isna(without_311["complaints"]) and "no 311 data" in without_311["notes"]


def test_payments_and_cost(season_end):
    m = season_end
    # met: 25% (3/5) and 50% (3/5) progression, quality (3/3) = 15,000 + 15,000 + 20,000
    assert (m["performance_earned"], m["penalties"], m["performance_net"]) == (50_000.0, 1_000.0, 49_000.0)
    assert m["base_earned"] == 750_000.0  # 0.75 of the planned miles
    assert m["amount_payable"] == 799_000.0
    assert m["cost_per_mile"] == pytest.approx(799_000 / 0.75)
    # the miles with PCI readings (0.5 of 0.75 mi) cost 2/3 of it, for 50 x 0.3 + 30 x 0.2 = 21 PCI point-miles
    assert m["cost_per_pci_point_mile"] == pytest.approx(799_000 * (0.5 / 0.75) / (50 * 0.3 + 30 * 0.2))


def test_monthly_table_is_cumulative_season_to_date(city):
    table = contract_performance(city)
    assert table["period"].tolist() == [f"2024-{m:02d}" for m in range(4, 12)]
    assert table["segments_completed"].tolist() == [0, 2, 3, 3, 3, 3, 3, 3]
    assert table["is_latest"].tolist() == [False] * 7 + [True]
    may = table[table["period"] == "2024-05"].iloc[0]
    assert may["as_of"] == pd.Timestamp("2024-05-31") and may["complaints"] == 2  # SR-1, SR-2
    assert (may["performance_earned"], may["penalties"]) == (0.0, 1_000.0)  # May incidents charged; nothing due yet
    june = table[table["period"] == "2024-06"].iloc[0]
    assert june["performance_earned"] == 15_000.0 and june["segments_unreported"] == 1
    april = table[table["period"] == "2024-04"].iloc[0]
    assert "no segment completed yet" in april["notes"]
