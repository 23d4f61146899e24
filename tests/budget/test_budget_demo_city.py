"""On the demo city (scale 0.1, real ingestion, real dbt): the planted failing senior centre and its better
neighbour, the function out of line with its peers, and an explained 7.6% scenario."""
from __future__ import annotations

import json

import duckdb
import pytest
from typer.testing import CliRunner

from citystat.budget.analysis import BudgetAnalysis
from citystat.budget.metrics import write_all
from citystat.budget.memo import memo_section
from citystat.cli import app as citystat

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def analysis(demo_warehouse):
    con = duckdb.connect(str(demo_warehouse), read_only=True)
    yield BudgetAnalysis(con)
    con.close()


def test_the_planted_senior_centre_fails_and_its_neighbour_is_the_alternative(analysis):
    failing = analysis.failing
    sites = failing[failing["entity_type"] == "site"]
    assert sites["entity_id"].tolist() == ["SITE-S03"]  # the one planted; no healthy site is caught
    s03 = sites.iloc[0]
    assert s03["program_code"] == "hs_senior_centres" and s03["service_area"] == "east"
    assert s03["red_periods"] >= 4 and s03["window_end"] == "2026-10"
    evidence = json.loads(s03["evidence"])
    assert len(evidence) == 6 and sum(e["status"] == "red" for e in evidence) == s03["red_periods"]

    best = analysis.repurposing.query("alternative_rank == 1").iloc[0]
    assert (best["failing_site_id"], best["alternative_site_id"]) == ("SITE-S03", "SITE-S01")
    assert best["alternative_spare_places"] > 20 and best["alternative_months_met_target"] >= 4
    assert best["estimated_annual_savings"] > 0 and best["estimated_outcome_change_pts"] > 5


def test_fleet_is_the_function_out_of_line_with_its_peers(analysis):
    bench = analysis.peer_benchmarks
    flagged = bench[bench["flag"].notna()]
    assert set(flagged["function_code"]) == {"fleet"} and set(flagged["flag"]) == {"above peers"}
    assert set(flagged["fiscal_year"]) == set(bench["fiscal_year"])  # every year compared
    latest = flagged.sort_values("fiscal_year").iloc[-1]
    assert 2.3 <= latest["ratio_to_peer_median"] <= 3.2 and latest["above_peer_max"] and latest["robust_z"] > 3.5


def test_cost_effectiveness_covers_every_programme_with_human_services_costs_per_outcome(analysis):
    ce = analysis.cost_effectiveness
    complete = ce[ce["fiscal_year_complete"]]
    assert complete["fiscal_year"].nunique() == 3  # three full fiscal years of history
    # the ledger spends 92-103% of the revised budget (a few lines are quarantined as defects)
    assert 92 <= complete["execution_pct"].median() <= 103 and complete["execution_pct"].between(80, 110).all()
    senior = complete[complete["program_code"] == "hs_senior_centres"]
    assert senior["cost_per_outcome"].notna().all() and (senior["cost_per_outcome"] > senior["cost_per_output"]).all()


def test_the_scenario_finds_7_6_percent_and_explains_every_choice(analysis):
    scenario = analysis.scenario(7.6)
    assert scenario.proposed_total == pytest.approx(scenario.target_amount)
    cut = scenario.table[scenario.table["step"].notna()].set_index("program_code")
    assert cut["explanation"].str.len().gt(40).all()
    # the failing centre is consolidated first (outcomes rise), fleet is the lowest outcome per dollar
    assert cut.index[0] == "hs_senior_centres" and cut.loc["hs_senior_centres", "decision"] == "consolidate"
    assert "merge Elm Street Senior Center into Eastside Senior Center" in cut.loc["hs_senior_centres", "explanation"]
    fleet = cut.loc["fleet_maintenance"]
    assert fleet["outcome_per_dollar_rank"] == 1 and fleet["decision"] == "cut to floor"
    assert "peer median" in fleet["explanation"]
    assert (cut["proposed_cut"] <= cut["base_budget"] * 0.2 + 0.01).all()  # nobody below the 80% floor


def test_metrics_memo_and_cli_on_the_demo_city(demo_warehouse, tmp_path):
    import shutil

    copy = tmp_path / "work.duckdb"
    shutil.copy(demo_warehouse, copy)
    with duckdb.connect(str(copy)) as con:
        rows = write_all(con)
        text = memo_section(con)
    assert rows["failing_programmes"] >= 1 and rows["vacant_positions"] > 0
    assert "SITE-S03 Elm Street Senior Center | SITE-S01 Eastside Senior Center" in text
    assert "| fleet |" in text.split("### Spending out of line with peer cities")[1].split("###")[0]
    assert "vacant for over a year" in text

    result = CliRunner().invoke(citystat, ["budget", "scenario", "--cut", "7.6%", "--db", str(copy)])
    assert result.exit_code == 0, result.output
    assert "A 7.6% cut of" in result.output and "fleet_maintenance" in result.output
