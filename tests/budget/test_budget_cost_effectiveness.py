"""Cost per output, cost per outcome, budget execution and outcome per dollar, on numbers worked out by hand."""
from __future__ import annotations

import pandas as pd
import pytest

from citystat.budget.cost_effectiveness import cost_effectiveness, kpi_counts, outcome_per_dollar, site_counts
from citystat.kpi.registry import load_registry


def _frames():
    budget = pd.DataFrame([
        # programme, year, name, department, adopted, revised
        ("hs_senior_centres", 2024, "Senior centres", "hs", 1_000_000.0, 1_000_000.0),
        ("hs_senior_centres", 2025, "Senior centres", "hs", 1_150_000.0, 1_200_000.0),
        ("hs_senior_centres", 2026, "Senior centres", "hs", 1_200_000.0, 1_200_000.0),
        ("fleet_maintenance", 2025, "Fleet maintenance", "fleet", 2_000_000.0, 2_000_000.0),
    ], columns=["program_code", "fiscal_year", "program_name", "department_code", "adopted_budget", "revised_budget"])
    spending = pd.DataFrame([
        ("hs_senior_centres", 2024, "hs", 1_000_000.0, 12),
        ("hs_senior_centres", 2025, "hs", 1_140_000.0, 12),
        ("hs_senior_centres", 2026, "hs", 380_000.0, 4),  # a year in progress: four months posted
        ("fleet_maintenance", 2025, "fleet", 2_100_000.0, 12),
    ], columns=["program_code", "fiscal_year", "ledger_department_code", "actual_spending", "months_posted"])
    counts = pd.DataFrame([
        ("hs_senior_centres", 2024, "output", 1000.0, "client-months served"),
        ("hs_senior_centres", 2024, "outcome", 500.0, "participant-months achieving the outcome"),
        ("hs_senior_centres", 2025, "output", 1200.0, "client-months served"),
        ("hs_senior_centres", 2025, "outcome", 600.0, "participant-months achieving the outcome"),
    ], columns=["program_code", "fiscal_year", "role", "units", "label"])
    index = pd.DataFrame([("hs_senior_centres", 2025, 0.95, "SITE-S01, SITE-S03"), ("fleet_maintenance", 2025, 0.90, "fleet_availability_pct")],
                         columns=["program_code", "fiscal_year", "outcome_index", "outcome_measures"])
    peers = pd.DataFrame([("hs", 2025, 1.2, None), ("fleet", 2025, 3.0, "above peers")],
                         columns=["function_code", "fiscal_year", "ratio_to_peer_median", "flag"])
    return budget, spending, counts, index, peers


def test_cost_per_output_and_outcome_execution_and_trends():
    table = cost_effectiveness(*_frames()).set_index(["program_code", "fiscal_year"])
    fy25 = table.loc[("hs_senior_centres", 2025)]
    assert fy25["execution_pct"] == pytest.approx(95.0)  # 1.14M of 1.2M
    assert fy25["cost_per_output"] == pytest.approx(950.0)  # 1.14M / 1,200 client-months
    assert fy25["cost_per_outcome"] == pytest.approx(1900.0)  # 1.14M / 600 outcomes
    assert fy25["cost_per_outcome_change_pct"] == pytest.approx(-5.0)  # from 2,000 in FY2024
    assert fy25["cost_per_output_change_pct"] == pytest.approx(-5.0)  # from 1,000
    assert fy25["spending_change_pct"] == pytest.approx(14.0)  # 1.0M -> 1.14M
    assert fy25["output_measure"] == "client-months served"
    assert fy25["outcome_basis"] == "SITE-S01, SITE-S03"
    # within the peer range (not flagged): no peer discount; 0.95 / 0.95 execution = 1.0
    assert fy25["outcome_per_dollar"] == pytest.approx(1.0)


def test_a_year_in_progress_is_judged_against_the_prorated_budget():
    fy26 = cost_effectiveness(*_frames()).set_index(["program_code", "fiscal_year"]).loc[("hs_senior_centres", 2026)]
    assert not fy26["fiscal_year_complete"] and fy26["months_posted"] == 4
    assert fy26["execution_pct"] == pytest.approx(95.0)  # 380k of 1.2M x 4/12 = 400k
    assert pd.isna(fy26["spending_change_pct"])  # four months against twelve say nothing
    assert pd.isna(fy26["cost_per_outcome"])  # no outcomes counted that year


def test_spending_out_of_line_with_peers_lowers_outcome_per_dollar():
    fleet = cost_effectiveness(*_frames()).set_index(["program_code", "fiscal_year"]).loc[("fleet_maintenance", 2025)]
    assert fleet["execution_pct"] == pytest.approx(105.0)
    assert fleet["peer_flag"] == "above peers"
    # 0.90 x (1/3) / 1.05
    assert fleet["outcome_per_dollar"] == pytest.approx(0.90 / 3 / 1.05)


def test_outcome_per_dollar_needs_an_outcome_index_and_execution():
    result = outcome_per_dollar(pd.Series([None, 1.0, 1.0]), pd.Series([None, None, 2.0]),
                                pd.Series([None, None, "above peers"]), pd.Series([100.0, 0.0, 50.0]))
    assert pd.isna(result.iloc[0]) and pd.isna(result.iloc[1])
    assert result.iloc[2] == pytest.approx(1.0)  # 1.0 x 1/2 / 0.5


def test_site_counts_are_client_months_and_participants_achieving_the_outcome():
    sites = pd.DataFrame([
        {"program_code": "hs_senior_centres", "fiscal_year": 2026, "enrollment": 50.0, "outcome_value": 80.0},
        {"program_code": "hs_senior_centres", "fiscal_year": 2026, "enrollment": 30.0, "outcome_value": 50.0},
    ])
    counts = site_counts(sites).set_index("role")
    assert counts.loc["output", "units"] == 80.0
    assert counts.loc["outcome", "units"] == pytest.approx(50 * 0.8 + 30 * 0.5)  # 55


def test_kpi_counts_sum_monthly_kpis_and_take_year_end_of_year_to_date_ones():
    kpis = pd.DataFrame([
        ("cs_requests_received", "2025-07", 2026, 10.0, 10.0), ("cs_requests_received", "2025-08", 2026, 20.0, 20.0),
        ("pw_paving_miles", "2025-07", 2026, 1.0, 1.0), ("pw_paving_miles", "2025-08", 2026, 3.0, 3.0),
        ("pw_paving_miles", "2025-09", 2026, 6.0, 6.0),
    ], columns=["kpi_id", "period", "fiscal_year", "value", "numerator"])
    measures = pd.DataFrame([
        ("cs_contact_center", "cs_requests_received", "output", "value", "requests"),
        ("pw_resurfacing", "pw_paving_miles", "output", "value", "miles"),
        ("pw_resurfacing", "pw_pci_improvement", "outcome", "", ""),  # judges outcomes, counts nothing
    ], columns=["program_code", "kpi_id", "role", "count_from", "count_label"])
    counts = kpi_counts(kpis, measures, load_registry()).set_index("program_code")
    assert counts.loc["cs_contact_center", "units"] == 30.0  # monthly: summed
    assert counts.loc["pw_resurfacing", "units"] == 6.0  # fiscal-year-to-date: the year's last month
    assert len(counts) == 2
