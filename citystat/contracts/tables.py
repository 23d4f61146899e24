"""The ``metrics`` tables of contract performance: their columns, SQL types and documentation, and how
they are written (``CREATE OR REPLACE`` + ``COMMENT ON``, carried into the snapshot by publish).

Every column written must be documented here: ``write_contract_table`` refuses an undocumented one.
"""
from __future__ import annotations

import duckdb
import pandas as pd

from citystat.contracts.grading import COMPONENTS
from citystat.warehouse import read, write_table

SCHEMA = "metrics"

_CONTRACT = [
    ("contract_id", "VARCHAR", "Procurement contract id (CTR-YYNN)"),
    ("vendor_id", "VARCHAR", "Contractor (VND-NNNN)"),
    ("vendor_name", "VARCHAR", "Contractor name"),
    ("season_year", "INTEGER", "Paving season (calendar year)"),
    ("region", "VARCHAR", "Region of the resurfacing contract"),
    ("status", "VARCHAR", "Contract status on the portal: active, completed or withdrawn"),
]

_PERFORMANCE = [
    ("period", "VARCHAR", "Month measured (YYYY-MM); the measurement is cumulative from the season start"),
    ("as_of", "DATE", "Day measured: the month end, the end of the contract's work (end date, or the last completion when late) or the latest report, whichever is first"),
    ("is_latest", "BOOLEAN", "The contract's latest measurement (season end, or the latest report while it runs)"),
    ("planned_segments", "INTEGER", "Street segments in the contract's reports (the work plan)"),
    ("planned_miles", "DOUBLE", "Planned miles in the contract"),
    ("segments_completed", "INTEGER", "Segments completed by as_of (actual_end <= as_of)"),
    ("miles_completed", "DOUBLE", "Miles of the completed segments"),
    ("share_segments_completed", "DOUBLE", "segments_completed / planned_segments"),
    ("share_miles_completed", "DOUBLE", "miles_completed / planned_miles"),
    ("segments_due", "INTEGER", "Segments scheduled to be finished by as_of (scheduled_end <= as_of)"),
    ("progress_vs_plan", "DOUBLE", "segments_completed / segments_due: progress against the schedule"),
    ("segments_overdue", "INTEGER", "Segments due but not completed"),
    ("segments_on_time", "INTEGER", "Completed segments finished by their scheduled end"),
    ("on_time_share", "DOUBLE", "segments_on_time / segments_completed"),
    ("days_late_total", "INTEGER", "Days late summed over completed segments (actual_end - scheduled_end, early = 0)"),
    ("avg_days_late", "DOUBLE", "days_late_total / segments_completed"),
    ("segments_unreported", "INTEGER", "Segments that left the weekly reports without a completion row (counted as not completed)"),
    ("pci_readings", "INTEGER", "Completed segments with PCI before and after"),
    ("segments_missing_pci", "INTEGER", "Completed segments without a PCI reading: left out of the PCI averages, not counted as zero"),
    ("avg_pci_before", "DOUBLE", "Mean PCI before resurfacing over pci_readings"),
    ("avg_pci_after", "DOUBLE", "Mean PCI after resurfacing over pci_readings"),
    ("avg_pci_improvement", "DOUBLE", "Mean PCI points gained over pci_readings"),
    ("segments_rework", "INTEGER", "Completed segments with rework reported within the warranty window"),
    ("rework_share", "DOUBLE", "segments_rework / segments_completed"),
    ("miles_closed_out", "DOUBLE", "Miles of the segments whose incidents are counted: completed, or open when the contract ended"),
    ("parking_incidents", "INTEGER", "Parking-management incidents on closed-out segments"),
    ("environmental_incidents", "INTEGER", "Environmental incidents on closed-out segments"),
    ("parking_per_mile", "DOUBLE", "parking_incidents / miles_closed_out"),
    ("environmental_per_mile", "DOUBLE", "environmental_incidents / miles_closed_out"),
    ("share_no_parking", "DOUBLE", "Completed segments without a parking incident / segments_completed"),
    ("share_no_environmental", "DOUBLE", "Completed segments without an environmental incident / segments_completed"),
    ("complaints", "INTEGER", "311 requests in active work zones (work-zone service types, same street, during the work) on closed-out segments; NULL without 311 data"),
    ("complaints_per_mile", "DOUBLE", "complaints / miles_closed_out"),
    ("performance_pool", "DOUBLE", "Performance payment pool of the contract ($)"),
    ("performance_earned", "DOUBLE", "Performance payments earned by as_of ($, benchmark lines of contract_payments)"),
    ("penalties", "DOUBLE", "Penalties charged by as_of ($, penalty lines of contract_payments)"),
    ("performance_net", "DOUBLE", "performance_earned - penalties ($)"),
    ("base_earned", "DOUBLE", "Base payment pro rata to planned miles completed (capped at the base payment, $)"),
    ("amount_payable", "DOUBLE", "base_earned + performance_earned - penalties ($)"),
    ("cost_per_mile", "DOUBLE", "amount_payable / miles_completed ($ per mile)"),
    ("cost_per_pci_point_mile", "DOUBLE", "Cost of the miles with PCI readings per PCI point gained per mile ($)"),
    ("notes", "VARCHAR", "What the numbers leave out: segments without PCI, unreported segments, no 311 data"),
]

_PAYMENTS = [
    ("contract_id", "VARCHAR", "Procurement contract id"),
    ("vendor_id", "VARCHAR", "Contractor"),
    ("season_year", "INTEGER", "Paving season"),
    ("line_no", "INTEGER", "Line number within the contract (benchmarks by due date, then penalties by period)"),
    ("period", "VARCHAR", "Payment period (YYYY-MM): the month the benchmark falls due or the penalty is charged"),
    ("line_kind", "VARCHAR", "benchmark, penalty or note"),
    ("component", "VARCHAR", "progression, quality, parking, environmental; parking_incidents, environmental_incidents, days_late; weights"),
    ("milestone_id", "VARCHAR", "Portal milestone of a benchmark line (MS-YYNNkk)"),
    ("benchmark", "VARCHAR", "What is measured"),
    ("due_date", "DATE", "Benchmark due date"),
    ("assessed_on", "DATE", "Day the line was assessed (NULL while pending)"),
    ("target", "DOUBLE", "Target share of the benchmark (0 for penalties: no incidents, no days late)"),
    ("actual", "DOUBLE", "Achieved share (benchmarks) or count of incidents / days late (penalties)"),
    ("weight", "DOUBLE", "Benchmark weight: share of the performance pool"),
    ("pool_share", "DOUBLE", "weight x performance pool ($)"),
    ("earned", "DOUBLE", "pool_share when met, else 0 ($)"),
    ("penalty", "DOUBLE", "count x the contract's penalty rate ($)"),
    ("net", "DOUBLE", "earned - penalty ($)"),
    ("status", "VARCHAR", "met, missed, pending, forfeited (withdrawn contract), charged (penalty), note"),
    ("reason", "VARCHAR", "The arithmetic in words, to check by hand"),
]

_GRADES = [
    ("season_year", "INTEGER", "Paving season"),
    *[c for c in _CONTRACT if c[0] not in ("season_year",)],
    ("graded_at_share", "DOUBLE", "Point of the season graded (0.75 = three quarters through)"),
    ("graded_on", "DATE", "Grading day: start_date + share x (end_date - start_date)"),
    ("data_through", "DATE", "Data used: the grading day, or the latest report when that is earlier"),
    ("score", "DOUBLE", "Weighted mean of the measured component points, 0-100 (NULL: no completed work)"),
    ("grade", "VARCHAR", "A >= 90, B >= 80, C >= 70, D >= 60, F below; none = not graded (gray)"),
    ("rank", "INTEGER", "Rank within the season (score, then progression points, incidents per mile, vendor id)"),
    *[(f"{c.name}_points", "DOUBLE", f"Points 0-100 for {c.label}: 0 at {c.zero_at:g}, 100 at {c.full_at:g}, weight {c.weight:.0%}")
      for c in COMPONENTS],
    ("progress_vs_plan", "DOUBLE", "Segments completed / segments scheduled to be finished, on the grading day"),
    ("avg_days_late", "DOUBLE", "Mean days late of the segments completed by the grading day"),
    ("avg_pci_after", "DOUBLE", "Mean PCI after on segments completed by the grading day (readings only)"),
    ("rework_share", "DOUBLE", "Share of completed segments needing rework within the warranty"),
    ("parking_per_mile", "DOUBLE", "Parking incidents per mile completed"),
    ("environmental_per_mile", "DOUBLE", "Environmental incidents per mile completed"),
    ("segments_completed", "INTEGER", "Segments completed by the grading day"),
    ("segments_due", "INTEGER", "Segments scheduled to be finished by the grading day"),
    ("miles_completed", "DOUBLE", "Miles completed by the grading day"),
    ("planned_miles", "DOUBLE", "Planned miles in the contract"),
    ("pci_readings", "INTEGER", "Completed segments with PCI readings"),
    ("segments_missing_pci", "INTEGER", "Completed segments without PCI readings (left out, not zero)"),
    ("complaints_per_mile", "DOUBLE", "311 work-zone complaints per mile (context, not scored)"),
    ("evidence", "VARCHAR", "The facts behind the score in words"),
    ("notes", "VARCHAR", "Components not measured, unreported segments, missing PCI, no work"),
]

_ALLOCATIONS = [
    ("season_year", "INTEGER", "Paving season"),
    ("graded_on", "DATE", "Grading day the allocation follows"),
    ("contract_id", "VARCHAR", "Contract (NULL on the unallocated row)"),
    ("vendor_id", "VARCHAR", "Contractor"),
    ("vendor_name", "VARCHAR", "Contractor name"),
    ("region", "VARCHAR", "Region of the contract"),
    ("status", "VARCHAR", "Contract status; 'unallocated' for work no contract had capacity for"),
    ("grade", "VARCHAR", "In-season grade"),
    ("score", "DOUBLE", "In-season score"),
    ("rank", "INTEGER", "Rank within the season"),
    ("pool_miles", "DOUBLE", "Work to award: planned miles of the season's contracts not completed on the grading day"),
    ("own_remaining_miles", "DOUBLE", "The contract's own planned miles not yet completed"),
    ("capacity_miles", "DOUBLE", "Most the contract can take: headroom x the larger of (pace so far x days left) and its own remaining planned miles"),
    ("minimum_miles", "DOUBLE", "Minimum share (capped by capacity)"),
    ("extra_miles", "DOUBLE", "Share of the rest by score"),
    ("allocated_miles", "DOUBLE", "Miles awarded (rounded to 0.01)"),
    ("allocated_share", "DOUBLE", "allocated_miles / pool_miles"),
    ("rule", "VARCHAR", "The rules applied, in order"),
]

_SCORECARDS = [
    ("vendor_id", "VARCHAR", "Contractor"),
    ("vendor_name", "VARCHAR", "Contractor name"),
    ("season_year", "INTEGER", "Paving season"),
    ("contracts", "INTEGER", "Results-driven contracts held in the season"),
    ("regions", "VARCHAR", "Regions of those contracts"),
    ("contract_value", "DOUBLE", "Total value of those contracts ($)"),
    ("season_complete", "BOOLEAN", "Every contract of the season has ended (false: latest report so far)"),
    ("planned_miles", "DOUBLE", "Planned miles"),
    ("miles_completed", "DOUBLE", "Miles completed"),
    ("share_miles_completed", "DOUBLE", "miles_completed / planned_miles"),
    ("segments_completed", "INTEGER", "Segments completed"),
    ("on_time_share", "DOUBLE", "Completed segments finished by their scheduled end"),
    ("avg_days_late", "DOUBLE", "Mean days late per completed segment"),
    ("avg_pci_after", "DOUBLE", "Mean PCI after (segments with readings)"),
    ("avg_pci_improvement", "DOUBLE", "Mean PCI points gained (segments with readings)"),
    ("segments_missing_pci", "INTEGER", "Completed segments without PCI readings"),
    ("rework_share", "DOUBLE", "Share of completed segments needing rework within warranty"),
    ("parking_per_mile", "DOUBLE", "Parking incidents per mile"),
    ("environmental_per_mile", "DOUBLE", "Environmental incidents per mile"),
    ("complaints_per_mile", "DOUBLE", "311 work-zone complaints per mile"),
    ("performance_pool", "DOUBLE", "Performance pools of the season's contracts ($)"),
    ("performance_earned", "DOUBLE", "Performance payments earned ($)"),
    ("pool_earned_share", "DOUBLE", "performance_earned / performance_pool"),
    ("penalties", "DOUBLE", "Penalties charged ($)"),
    ("amount_payable", "DOUBLE", "Base pro rata + performance earned - penalties ($)"),
    ("cost_per_mile", "DOUBLE", "amount_payable / miles_completed ($)"),
    ("in_season_score", "DOUBLE", "In-season score (planned-miles weighted over the vendor's contracts)"),
    ("in_season_grade", "VARCHAR", "Letter of in_season_score"),
    ("season_rank", "INTEGER", "Rank among the season's vendors (1 = best)"),
    ("vendors_in_season", "INTEGER", "Vendors with results-driven contracts that season"),
    ("lowest_in_season", "BOOLEAN", "Lowest in-season score of the season (when more than one vendor was graded)"),
    ("final_quarter_miles", "DOUBLE", "Final-quarter miles awarded"),
    ("final_quarter_share", "DOUBLE", "Share of the season's final-quarter work awarded"),
    ("seasons_to_date", "INTEGER", "Seasons with a results-driven contract up to this one"),
    ("mean_score_to_date", "DOUBLE", "Mean in-season score up to this season"),
    ("seasons_lowest_to_date", "INTEGER", "Seasons graded lowest up to this one"),
    ("pool_earned_share_to_date", "DOUBLE", "Performance earned / pool, all seasons up to this one"),
    ("review_flag", "BOOLEAN", "Review before renewal: graded lowest in 2+ seasons or mean score below 70"),
    ("review_reason", "VARCHAR", "Why the review flag is set"),
]

TABLES: dict[str, tuple[str, list[tuple[str, str, str]]]] = {
    "contract_performance": (
        "Results-driven contracts measured at the end of every month of the season (cumulative season to date): "
        "schedule, quality, incidents, 311 complaints in work zones, payments and cost. Rules: docs/contracts_performance.md",
        [*_CONTRACT, *_PERFORMANCE],
    ),
    "contract_payments": (
        "Performance payment audit lines of results-driven contracts: one line per benchmark and per penalty, "
        "with the arithmetic in 'reason'. Earned per contract and period = sum(earned) - sum(penalty).",
        _PAYMENTS,
    ),
    "contract_grades": (
        "In-season grades of results-driven contracts (default three quarters through the season): component "
        "points, score 0-100, letter and the evidence. Rules: docs/contracts_performance.md",
        _GRADES,
    ),
    "contract_allocations": (
        "Remaining (final-quarter) work of each season awarded by grade: minimum share, capacity, ties, "
        "withdrawn contracts; one row per contract plus an 'unallocated' row when capacity runs out.",
        _ALLOCATIONS,
    ),
    "vendor_scorecards": (
        "Vendor record per paving season and to date (outcomes, grades, payments, final-quarter shares, "
        "review flag) for renewal decisions.",
        _SCORECARDS,
    ),
}


def _typed(frame: pd.DataFrame, columns: list[tuple[str, str, str]]) -> pd.DataFrame:
    out = pd.DataFrame(index=frame.index)
    for name, sql_type, _ in columns:
        values = frame[name] if name in frame else pd.Series(None, index=frame.index, dtype=object)
        if sql_type == "DOUBLE":
            out[name] = pd.to_numeric(values, errors="raise").astype(float)
        elif sql_type == "INTEGER":
            out[name] = pd.to_numeric(values, errors="raise").astype("Int64")
        elif sql_type == "DATE":
            out[name] = pd.to_datetime(values)
        elif sql_type == "BOOLEAN":
            out[name] = values.astype("boolean")
        else:
            out[name] = values.astype(object).where(values.notna(), None)
    return out


def write_contract_table(con: duckdb.DuckDBPyConnection, name: str, frame: pd.DataFrame) -> int:
    """Replace ``metrics.<name>`` with ``frame`` (typed and documented as in TABLES); returns the row count."""
    doc, columns = TABLES[name]
    undocumented = sorted(set(frame.columns) - {c for c, _, _ in columns})
    if undocumented:
        raise ValueError(f"metrics.{name}: undocumented column(s) {', '.join(undocumented)}")
    return write_table(con, f"{SCHEMA}.{name}", _typed(frame, columns), doc,
                       {c: text for c, _, text in columns}, {c: t for c, t, _ in columns})


def read_table(con: duckdb.DuckDBPyConnection, name: str) -> pd.DataFrame:
    """A contract metrics table back as a DataFrame (DATE columns as Timestamps)."""
    frame = read(con, f"SELECT * FROM {SCHEMA}.{name}")
    for column, sql_type, _ in TABLES[name][1]:
        if sql_type == "DATE":
            frame[column] = pd.to_datetime(frame[column])
    return frame
