"""The budget metrics tables (``metrics.<table>``): their documentation, the marts each reads, and how one is
computed from a BudgetAnalysis and written (methods: docs/budget_repurposing.md)."""
from __future__ import annotations

import duckdb
import pandas as pd

from citystat.budget import cost_effectiveness, failing, peers, repurposing, scenario, vacancies
from citystat.budget.analysis import BudgetAnalysis
from citystat.warehouse import write_table

OUTCOME_MARTS = ["fct_programme_site_outcomes", "kpi_values", "fct_kpi_submissions", "dim_program"]
SPENDING_MARTS = ["fct_budget_lines", "fct_expenditures", "fct_peer_city_spending"]

# table -> (description, column docs, marts read)
TABLES = {
    "programme_cost_effectiveness": (
        "Programme cost-effectiveness by fiscal year: ledger spending against budget, outputs and outcomes, cost per "
        "output and per outcome, outcome index and outcome per dollar (docs/budget_repurposing.md).",
        cost_effectiveness.COLUMN_DOCS, SPENDING_MARTS + OUTCOME_MARTS),
    "peer_benchmarks": (
        "Riverton's spending per resident by function against the peer cities, by fiscal year; flagged when the "
        "robust z-score (median/MAD) is beyond +/-3.5 (docs/budget_repurposing.md).",
        peers.COLUMN_DOCS, ["fct_peer_city_spending"]),
    "failing_programmes": (
        "Sites and outcome KPIs red in at least N of their last M months (default 4 of 6), colours from the KPI "
        "status engine, with the evidence month by month (docs/budget_repurposing.md).",
        failing.COLUMN_DOCS, OUTCOME_MARTS),
    "repurposing_candidates": (
        "For each consistently failing site: sites of the same programme and service area meeting their target with "
        "spare places, estimated savings and change in outcomes if its clients moved there, assumptions stated.",
        repurposing.COLUMN_DOCS, OUTCOME_MARTS),
    "budget_scenario": (
        "Where a budget cut (default 7.6%) does least harm to outcomes: consolidations first, then programmes with "
        "the lowest outcome per dollar down to a floor; one row per programme with the reason.",
        scenario.COLUMN_DOCS, SPENDING_MARTS + OUTCOME_MARTS),
    "vacant_positions": (
        "Positions vacant in the latest position snapshot, by department, with how long they have been vacant.",
        vacancies.COLUMN_DOCS, ["fct_positions"]),
}

COLUMN_TYPES = {"vacant_positions": vacancies.COLUMN_TYPES}


def compute(analysis: BudgetAnalysis, table: str, cut_pct: float = scenario.DEFAULT_CUT_PCT,
            floor_share: float = scenario.DEFAULT_FLOOR_SHARE, protected: tuple[str, ...] = ()) -> pd.DataFrame:
    if table == "programme_cost_effectiveness":
        return analysis.cost_effectiveness
    if table == "peer_benchmarks":
        return analysis.peer_benchmarks
    if table == "failing_programmes":
        return analysis.failing
    if table == "repurposing_candidates":
        return analysis.repurposing
    if table == "budget_scenario":
        return analysis.scenario(cut_pct, floor_share, protected).table
    if table == "vacant_positions":
        return analysis.vacancies
    raise KeyError(f"no budget metric {table!r} (one of {', '.join(TABLES)})")


def write_metric(con: duckdb.DuckDBPyConnection, table: str, analysis: BudgetAnalysis | None = None, **settings) -> pd.DataFrame:
    """Compute one budget metric from the marts and write ``metrics.<table>``."""
    frame = compute(analysis or BudgetAnalysis(con), table, **settings)
    description, docs, _ = TABLES[table]
    write_table(con, f"metrics.{table}", frame, description, docs, COLUMN_TYPES.get(table))
    return frame


def write_all(con: duckdb.DuckDBPyConnection, **settings) -> dict[str, int]:
    """Every budget metric from one analysis (CLI and tests; Dagster materializes them one asset at a time)."""
    analysis = BudgetAnalysis(con)
    return {table: len(write_metric(con, table, analysis, **(settings if table == "budget_scenario" else {})))
            for table in TABLES}


def summary(table: str, frame: pd.DataFrame) -> dict:
    """What a run of ``table`` shows at a glance (the asset's materialization metadata)."""
    summary = {"rows": len(frame), "table": f"metrics.{table}"}
    if table == "failing_programmes" and len(frame):
        summary["failing"] = ", ".join(frame["entity_id"].head(10))
    if table == "peer_benchmarks" and len(frame):
        flagged = frame[frame["flag"].notna()]
        summary["flagged"] = ", ".join(sorted({f"{r.function_code} ({r.flag})" for r in flagged.itertuples()}))
    if table == "repurposing_candidates" and len(frame):
        summary["estimated_annual_savings_best"] = float(frame.loc[frame["alternative_rank"] == 1, "estimated_annual_savings"].sum())
    if table == "budget_scenario" and len(frame):
        summary["proposed_total"] = float(frame["proposed_cut"].sum())
        summary["programmes_cut"] = int(frame["step"].notna().sum())
    if table == "vacant_positions" and len(frame):
        summary["over_1_year"] = int((frame["vacancy_band"] == vacancies.OVER_A_YEAR).sum())
    return summary
