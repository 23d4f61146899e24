"""The evaluation tables in the warehouse (schema ``metrics``, published with the snapshot):

* ``metrics.evaluation_results``: one row per registered evaluation and outcome;
* ``metrics.evaluation_balance``: the pre-period balance check of each outcome;
* ``metrics.evaluation_assignments``: every unit of assignment and its arm (the randomization list).
"""
from __future__ import annotations

import datetime as dt

import duckdb
import pandas as pd

from citystat import settings
from citystat.evaluations.analysis import BALANCE_ALPHA, analyse
from citystat.evaluations.registry import Evaluation, load_registry
from citystat.warehouse import write_table

RESULTS = "metrics.evaluation_results"
BALANCE = "metrics.evaluation_balance"
ASSIGNMENTS = "metrics.evaluation_assignments"

RESULT_DOCS = {
    "evaluation_id": "the evaluation (data_inventory/evaluations.yaml)",
    "title": "what was tested",
    "outcome": "outcome name in the registry",
    "outcome_label": "the outcome in words",
    "dataset": "the administrative dataset (warehouse table) the outcome comes from",
    "outcome_column": "its column",
    "outcome_unit": "days, share (effects in shares; the result text in percentage points), ...",
    "desired_direction": "up or down: which way is better",
    "label": "pre-registered primary / pre-registered secondary / exploratory (not pre-registered: a lead, not a finding)",
    "is_primary": "the pre-registered primary outcome (the headline)",
    "pre_registered": "registered before the start",
    "status": "planned / in progress (no estimate before the report date) / reported / no data",
    "as_of": "the data's as-of date",
    "start_date": "first day of the window",
    "end_date": "last day of the window",
    "report_date": "end + follow-up: the first day results are looked at",
    "unit_of_assignment": "what was randomized (e.g. service district x week)",
    "assignment_method": "randomized or phased",
    "units_total": "units of assignment",
    "units_treated": "units assigned to the treatment (NULL for a phased rollout)",
    "n_treated": "records with an outcome in treated units",
    "n_control": "records with an outcome in control units",
    "n_missing_outcome": "records in the window without an outcome value (e.g. still open): left out",
    "clusters": "units with at least one record (the clusters of the standard errors)",
    "mean_treated": "mean outcome, treatment",
    "mean_control": "mean outcome, control",
    "effect": "treatment - control (OLS coefficient; phased: with period fixed effects)",
    "std_error": "cluster-robust standard error (clustered by unit of assignment)",
    "ci_low": "95% confidence interval, low end",
    "ci_high": "95% confidence interval, high end",
    "p_value": "two-sided p-value of no effect",
    "mde": "minimum detectable effect: 2.80 x SE (alpha 0.05 two-sided, power 0.8)",
    "method": "the estimator",
    "balanced": f"pre-period balance check passed (p >= {BALANCE_ALPHA}); False: the randomization may be broken",
    "significant": "the 95% CI excludes zero",
    "result": "the result in plain language, with its label",
}
RESULT_COLUMNS = list(RESULT_DOCS)

BALANCE_DOCS = {
    "evaluation_id": "the evaluation",
    "outcome": "outcome name",
    "pre_start": "first day of the pre-period (the window's length just before the start)",
    "pre_end": "last day of the pre-period",
    "n_treated": "pre-period records of units later treated (each unit's pre-period: same value, same period index)",
    "n_control": "pre-period records of control units",
    "mean_treated": "pre-period mean, treatment units",
    "mean_control": "pre-period mean, control units",
    "difference": "treatment - control before the start (should be noise)",
    "ci_low": "95% CI of the difference, low (cluster-robust)",
    "ci_high": "95% CI of the difference, high",
    "p_value": "p-value of no difference",
    "std_difference": "difference / the pre-period standard deviation",
    "balanced": f"p >= {BALANCE_ALPHA}: no evidence the arms differed before the start",
    "note": "the check in words",
}
ASSIGNMENT_DOCS = {
    "evaluation_id": "the evaluation",
    "unit_id": "the unit of assignment (value:period index)",
    "unit_value": "the unit column's value (e.g. ZIP code)",
    "period_index": "period (week) counted from the start; NULL when the unit has no period",
    "period_start": "first day of the unit's period",
    "arm": "treatment / control (randomized), phased (stepped wedge)",
    "phase_start": "phased rollouts: the date the unit value starts the treatment",
}


def evaluation_as_of(as_of: dt.date | None = None) -> dt.date:
    return as_of or settings.as_of() or dt.date.today()


def build_tables(con: duckdb.DuckDBPyConnection, registry: list[Evaluation],
                 as_of: dt.date) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    results, balance, units = [], [], []
    for evaluation in registry:
        out = analyse(con, evaluation, as_of)
        results.append(out.results)
        balance.append(out.balance)
        units.append(out.assignments)
    frame = lambda parts, columns: pd.concat([p for p in parts if len(p)] or [pd.DataFrame(columns=columns)],
                                             ignore_index=True).reindex(columns=columns)
    return (frame(results, RESULT_COLUMNS), frame(balance, list(BALANCE_DOCS)), frame(units, list(ASSIGNMENT_DOCS)))


def write_evaluation_tables(con: duckdb.DuckDBPyConnection, registry: list[Evaluation] | None = None,
                            as_of: dt.date | None = None) -> dict[str, pd.DataFrame]:
    registry = load_registry() if registry is None else registry
    results, balance, units = build_tables(con, registry, evaluation_as_of(as_of))
    date_types = lambda cols: {c: "DATE" for c in cols}
    write_table(con, RESULTS, results, "Low-cost evaluations: the effect of each registered rollout on each outcome, "
                "with a 95% CI, the minimum detectable effect and the result in words (docs/evaluations.md).",
                RESULT_DOCS, types={**date_types(["as_of", "start_date", "end_date", "report_date"]),
                                    **{c: "DOUBLE" for c in ["mean_treated", "mean_control", "effect", "std_error",
                                                             "ci_low", "ci_high", "p_value", "mde"]},
                                    **{c: "BOOLEAN" for c in ["balanced", "significant", "is_primary", "pre_registered"]},
                                    **{c: "INTEGER" for c in ["units_total", "units_treated", "n_treated", "n_control",
                                                              "n_missing_outcome", "clusters"]}})
    write_table(con, BALANCE, balance, "Low-cost evaluations: balance of the arms on each outcome before the start "
                "(a broken randomization shows here).", BALANCE_DOCS,
                types={**date_types(["pre_start", "pre_end"]), "balanced": "BOOLEAN",
                       **{c: "DOUBLE" for c in ["mean_treated", "mean_control", "difference", "ci_low", "ci_high",
                                                "p_value", "std_difference"]}})
    write_table(con, ASSIGNMENTS, units, "Low-cost evaluations: every unit of assignment and its arm "
                "(the randomization list, drawn from the registry's seed).", ASSIGNMENT_DOCS,
                types={**date_types(["period_start", "phase_start"]), "period_index": "INTEGER"})
    return {RESULTS: results, BALANCE: balance, ASSIGNMENTS: units}
