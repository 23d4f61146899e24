"""The budget metrics on a small hand-built warehouse (real DuckDB, real Dagster run, real CLI): SQL readers,
metrics tables with their documentation, the memo section, vacancies and clear errors for missing marts."""
from __future__ import annotations

import datetime as dt

import dagster as dg
import duckdb
import pandas as pd
import pytest
from dagster_duckdb import DuckDBResource
from typer.testing import CliRunner

from citystat.budget.analysis import BudgetAnalysis
from citystat.budget.metrics import TABLES, write_all
from orchestration.defs.metrics.budget import BUDGET_ASSETS
from citystat.warehouse import MissingMartError
from citystat.budget.memo import memo_section
from citystat.warehouse import write_table
from citystat.budget.vacancies import by_department
from citystat.cli import app as citystat

# FY2026 = July 2025 - June 2026; each programme spends $100,000 a month against a $1,200,000 budget
PROGRAMMES = [("hs_senior_centres", "hs", "Senior centres"), ("fleet_maintenance", "fleet", "Fleet maintenance"),
              ("omb_budget", "omb", "Budget and management")]
SITE_MONTHS = ["2026-01", "2026-02", "2026-03", "2026-04", "2026-05", "2026-06"]
PEERS = [10.0, 12.0, 14.0, 16.0, 18.0]  # median 14, MAD 2


def _build(path) -> None:
    con = duckdb.connect(str(path))
    con.execute("CREATE SCHEMA marts")
    con.execute("""CREATE TABLE marts.fct_budget_lines (fiscal_year BIGINT, department_code VARCHAR, program_code VARCHAR,
                   program_name VARCHAR, fund VARCHAR, account VARCHAR, adopted_amount DOUBLE, revised_amount DOUBLE)""")
    con.execute("""CREATE TABLE marts.fct_expenditures (fiscal_year BIGINT, fiscal_period BIGINT, department_code VARCHAR,
                   program_code VARCHAR, amount DOUBLE)""")
    con.execute("CREATE TABLE marts.dim_program (program_code VARCHAR, department_code VARCHAR, program_name VARCHAR)")
    for code, department, name in PROGRAMMES:
        con.execute("INSERT INTO marts.dim_program VALUES (?, ?, ?)", [code, department, name])
        con.execute("INSERT INTO marts.fct_budget_lines VALUES (2026, ?, ?, ?, 'general', '5100', 1200000, 1200000)", [department, code, name])
        for period in range(1, 13):
            con.execute("INSERT INTO marts.fct_expenditures VALUES (2026, ?, ?, ?, 100000)", [period, department, code])
    con.execute("""CREATE TABLE marts.fct_programme_site_outcomes (site_id VARCHAR, site_name VARCHAR, program_code VARCHAR,
                   service_area VARCHAR, month_start TIMESTAMP, capacity BIGINT, enrollment BIGINT, outcome_measure VARCHAR,
                   outcome_target DOUBLE, outcome_value DOUBLE, monthly_cost DOUBLE)""")
    for month in SITE_MONTHS:
        start = dt.datetime.strptime(month, "%Y-%m")
        # S03 misses its 70% target every month (50%: red); S01 beats it with 30 spare places
        con.execute("INSERT INTO marts.fct_programme_site_outcomes VALUES ('SITE-S03', 'Elm Street', 'hs_senior_centres', 'east', ?, 100, 60, 'pct', 70, 50, 60000)", [start])
        con.execute("INSERT INTO marts.fct_programme_site_outcomes VALUES ('SITE-S01', 'Eastside', 'hs_senior_centres', 'east', ?, 100, 70, 'pct', 70, 80, 40000)", [start])
    con.execute("""CREATE TABLE marts.fct_peer_city_spending (city VARCHAR, state VARCHAR, population BIGINT, fiscal_year BIGINT,
                   function_code VARCHAR, spending DOUBLE, per_capita DOUBLE, is_riverton BOOLEAN)""")
    for function, riverton in (("fleet", 30.0), ("hs", 15.0)):
        for i, value in enumerate(PEERS):
            con.execute("INSERT INTO marts.fct_peer_city_spending VALUES (?, 'OH', 100000, 2026, ?, ?, ?, false)",
                        [f"Peer{i}", function, value * 100_000, value])
        con.execute("INSERT INTO marts.fct_peer_city_spending VALUES ('Riverton', NULL, 350000, 2026, ?, ?, ?, true)",
                    [function, riverton * 350_000, riverton])
    con.execute("""CREATE TABLE marts.fct_positions (snapshot_date DATE, position_id VARCHAR, department_code VARCHAR,
                   program_code VARCHAR, title VARCHAR, status VARCHAR, vacant_since DATE, annual_salary DOUBLE)""")
    con.execute("""INSERT INTO marts.fct_positions VALUES
        ('2026-05-31', 'POS-1', 'fleet', 'fleet_maintenance', 'Mechanic', 'vacant', '2025-01-01', 50000),
        ('2026-06-30', 'POS-1', 'fleet', 'fleet_maintenance', 'Mechanic', 'vacant', '2025-01-01', 50000),
        ('2026-06-30', 'POS-2', 'fleet', 'fleet_maintenance', 'Clerk', 'vacant', '2026-05-01', 40000),
        ('2026-06-30', 'POS-3', 'hs', 'hs_senior_centres', 'Aide', 'filled', NULL, 30000),
        ('2026-06-30', 'POS-4', 'hs', 'hs_senior_centres', 'Aide', 'vacant', NULL, 30000)""")
    con.close()


@pytest.fixture
def warehouse(tmp_path):
    path = tmp_path / "work.duckdb"
    _build(path)
    return path


def test_the_analysis_reads_the_marts_and_finds_what_was_planted(warehouse):
    with duckdb.connect(str(warehouse), read_only=True) as con:
        analysis = BudgetAnalysis(con)
        ce = analysis.cost_effectiveness.set_index("program_code")
        failing = analysis.failing
        candidates = analysis.repurposing
        scenario = analysis.scenario(10.0)

    senior = ce.loc["hs_senior_centres"]
    assert senior["execution_pct"] == pytest.approx(100.0) and senior["fiscal_year_complete"]
    # outcomes: (60 x 50% + 70 x 80%) x 6 months = 516 participant-months, for $1.2M
    assert senior["outcome_units"] == pytest.approx(516.0)
    assert senior["cost_per_outcome"] == pytest.approx(1_200_000 / 516)
    assert senior["output_units"] == pytest.approx(130 * 6)
    # enrollment-weighted site scores: (60 x 50/70 + 70 x 80/70) / 130
    assert senior["outcome_index"] == pytest.approx((60 * 50 / 70 + 70 * 80 / 70) / 130)
    assert pd.isna(ce.loc["omb_budget", "outcome_index"])  # no outcome KPI, no site: not judged

    assert failing["entity_id"].tolist() == ["SITE-S03"]
    assert failing.iloc[0]["red_periods"] == 6 and failing.iloc[0]["window_end"] == "2026-06"

    best = candidates.iloc[0]
    assert (best["failing_site_id"], best["alternative_site_id"]) == ("SITE-S03", "SITE-S01")
    # 30 spare places x 25% x $400/place + 30 new places x $400 = $15,000 a month; saves $45,000 a month
    assert best["estimated_annual_savings"] == pytest.approx((60_000 - 30 * 0.25 * 400 - 30 * 400) * 12)

    table = scenario.table.set_index("program_code")
    assert table.loc["hs_senior_centres", "decision"] == "consolidate"
    assert table.loc["omb_budget", "decision"] == "not cut: no outcome measure"


def test_dagster_materializes_every_budget_metric_with_documented_columns(warehouse):
    result = dg.materialize(BUDGET_ASSETS, resources={"warehouse": DuckDBResource(database=str(warehouse))},
                            run_config={"ops": {"metrics__budget_scenario": {"config": {"cut_pct": 5.0}}}})
    assert result.success
    materialized = {tuple(e.asset_key.path) for e in result.get_asset_materialization_events()}
    assert materialized == {("metrics", t) for t in TABLES}
    with duckdb.connect(str(warehouse), read_only=True) as con:
        comments = dict(con.execute("SELECT table_name, comment FROM duckdb_tables() WHERE schema_name = 'metrics'").fetchall())
        undocumented = con.execute("SELECT table_name, column_name FROM duckdb_columns() WHERE schema_name = 'metrics' "
                                   "AND (comment IS NULL OR comment = '')").fetchall()
        cut_pct = con.execute("SELECT DISTINCT cut_pct FROM metrics.budget_scenario").fetchall()
        peers = con.execute("SELECT function_code, flag FROM metrics.peer_benchmarks ORDER BY 1").fetchall()
    assert set(comments) == set(TABLES) and all(comments.values())
    assert undocumented == []
    assert cut_pct == [(5.0,)]  # the asset's config reached the scenario
    assert peers == [("fleet", "above peers"), ("hs", None)]


def test_rerunning_replaces_the_tables(warehouse):
    with duckdb.connect(str(warehouse)) as con:
        first = write_all(con)
        second = write_all(con)
        rows = con.execute("SELECT count(*) FROM metrics.failing_programmes").fetchone()[0]
    assert first == second and rows == first["failing_programmes"] == 1


def test_vacancies_come_from_the_latest_snapshot_only(warehouse):
    with duckdb.connect(str(warehouse), read_only=True) as con:
        vacancies = BudgetAnalysis(con).vacancies
    assert vacancies["position_id"].tolist() == ["POS-1", "POS-2", "POS-4"]  # longest first, unknown last
    assert vacancies["days_vacant"].tolist()[:2] == [545, 60]  # 2025-01-01 -> 2026-06-30; 2026-05-01 -> 2026-06-30
    assert vacancies["vacancy_band"].tolist() == ["over 1 year", "under 3 months", "unknown"]
    summary = by_department(vacancies).set_index("department_code")
    assert summary.loc["fleet", "vacant_positions"] == 2 and summary.loc["fleet", "vacant_over_1_year"] == 1
    assert summary.loc["fleet", "annual_salary_over_1_year"] == 50_000


def test_the_memo_section_reads_the_metrics_tables(warehouse):
    with duckdb.connect(str(warehouse)) as con:
        assert "Not computed yet." in memo_section(con)
        write_all(con)
        text = memo_section(con)
    assert text.startswith("## Budget repurposing")
    assert "| SITE-S03 | Elm Street | hs_senior_centres | 6 of 6 |" in text
    assert "SITE-S03 Elm Street | SITE-S01 Eastside" in text
    assert "| fleet | $30.00 | $14.00 | 2.14× | +5.4 | above peers |" in text
    assert "3 vacant position(s) on 2026-06-30, 1 vacant for over a year" in text
    assert "A 7.6% cut of $3,600,000" in text


def test_the_memo_hook_adds_the_section_to_the_monthly_memo(warehouse):
    from citystat.kpi.memo import build_memo

    with duckdb.connect(str(warehouse)) as con:
        write_all(con)
        section = memo_section(con)
    status = pd.DataFrame([{"kpi_id": "k", "name": "K", "department_code": "hs", "period": "2026-06", "value": 1.0,
                            "target": 1.0, "status": "green", "score": 1.0, "critical": False, "distance_from_target": 0.0,
                            "relative_change": None, "previous_value": None, "change_direction": None, "status_reason": ""}])
    memo = build_memo("2026-06", status, extra_sections=[section])
    assert "## Budget repurposing" in memo.markdown and "<h2>Budget repurposing</h2>" in memo.html


def test_cli_scenario_prints_the_cuts_and_why(warehouse):
    result = CliRunner().invoke(citystat, ["budget", "scenario", "--cut", "10%", "--db", str(warehouse)])
    assert result.exit_code == 0, result.output
    assert "A 10% cut of $3,600,000 is $360,000" in result.output
    assert "hs_senior_centres" in result.output and "Why:" in result.output
    assert "merge Elm Street into Eastside" in result.output.replace("\n", " ")

    peers = CliRunner().invoke(citystat, ["budget", "peers", "--db", str(warehouse)])
    assert peers.exit_code == 0 and "above peers" in peers.output

    bad = CliRunner().invoke(citystat, ["budget", "scenario", "--cut", "lots", "--db", str(warehouse)])
    assert bad.exit_code == 1 and "--cut: cut 'lots' is not a percentage" in bad.output


def test_a_missing_mart_is_named(tmp_path):
    path = tmp_path / "empty.duckdb"
    duckdb.connect(str(path)).close()
    with duckdb.connect(str(path), read_only=True) as con, pytest.raises(MissingMartError, match="marts.fct_programme_site_outcomes"):
        BudgetAnalysis(con).failing
    result = CliRunner().invoke(citystat, ["budget", "failing", "--db", str(path)])
    assert result.exit_code == 1 and "needs marts.fct_programme_site_outcomes" in result.output


def test_every_metrics_column_must_be_documented(tmp_path):
    with duckdb.connect(str(tmp_path / "w.duckdb")) as con:
        with pytest.raises(ValueError, match="column\\(s\\) b have no description"):
            write_table(con, "metrics.t", pd.DataFrame({"a": [1], "b": [2]}), "table", {"a": "doc"})
        write_table(con, "metrics.t", pd.DataFrame({"a": [None, None]}, dtype="object"), "table", {"a": "doc"})
        assert con.execute("SELECT data_type FROM duckdb_columns() WHERE table_name = 't'").fetchall() == [("VARCHAR",)]
