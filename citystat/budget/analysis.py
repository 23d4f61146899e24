"""The budget analysis of one warehouse, computed once and shared by the metrics assets, the CLI and the memo.

Each table is computed on first use from the marts (never from older metrics tables), so any one of them can
be rebuilt alone and they always agree with each other.
"""
from __future__ import annotations

from functools import cached_property
from pathlib import Path

import duckdb
import pandas as pd

from citystat.budget.cost_effectiveness import programme_cost_effectiveness
from citystat.budget.failing import DEFAULT_RED_PERIODS, DEFAULT_WINDOW, check_rule, failing_programmes
from citystat.budget.outcomes import OutcomeData, load_measures, trailing_outcome_index
from citystat.budget.peers import latest_ratios, peer_benchmarks
from citystat.budget.repurposing import DEFAULT_MARGINAL_COST_SHARE, repurposing_candidates
from citystat.budget.scenario import (
    DEFAULT_FLOOR_SHARE, Scenario, consolidations_from, propose_cut, scenario_inputs,
)
from citystat.budget.vacancies import vacant_positions
from citystat.kpi.registry import Registry, load_registry


class BudgetAnalysis:
    def __init__(self, con: duckdb.DuckDBPyConnection, registry: Registry | None = None, measures_path: Path | None = None,
                 red_periods: int = DEFAULT_RED_PERIODS, window: int = DEFAULT_WINDOW,
                 marginal_cost_share: float = DEFAULT_MARGINAL_COST_SHARE):
        check_rule(red_periods, window)
        self.con = con
        self.registry = registry or load_registry()
        self.measures_path = measures_path
        self.red_periods, self.window = red_periods, window
        self.marginal_cost_share = marginal_cost_share

    @cached_property
    def outcomes(self) -> OutcomeData:
        return OutcomeData(self.con, self.registry, load_measures(self.registry, self.measures_path))

    @cached_property
    def peer_benchmarks(self) -> pd.DataFrame:
        return peer_benchmarks(self.con)

    @cached_property
    def cost_effectiveness(self) -> pd.DataFrame:
        return programme_cost_effectiveness(self.con, self.outcomes, self.peer_benchmarks)

    @cached_property
    def failing(self) -> pd.DataFrame:
        return failing_programmes(self.outcomes, self.red_periods, self.window)

    @cached_property
    def repurposing(self) -> pd.DataFrame:
        return repurposing_candidates(self.outcomes.sites, self.failing, self.red_periods, self.window, self.marginal_cost_share)

    @cached_property
    def vacancies(self) -> pd.DataFrame:
        return vacant_positions(self.con)

    @cached_property
    def scenario_inputs(self) -> pd.DataFrame:
        return scenario_inputs(self.cost_effectiveness, trailing_outcome_index(self.outcomes.scores),
                               latest_ratios(self.peer_benchmarks), self.failing)

    def scenario(self, pct: float, floor_share: float = DEFAULT_FLOOR_SHARE, protected: tuple[str, ...] = ()) -> Scenario:
        unknown = sorted(set(protected) - set(self.scenario_inputs["program_code"]))
        if unknown:
            raise ValueError(f"protected programme(s) {', '.join(unknown)} not in the budget")
        return propose_cut(self.scenario_inputs, pct, floor_share=floor_share, protected=tuple(protected),
                           consolidations=consolidations_from(self.repurposing))
