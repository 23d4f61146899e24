"""Consistently failing programmes and sites: an outcome red in at least N of the last M periods.

The colour of each period comes from the KPI status engine (orchestration/budget/outcomes.py runs it); this
module only counts. The window is the entity's last M months ending at its latest month with data; a month in
the window without data counts as not red (it is shown as ``no data`` in the evidence). An entity whose latest
month is more than M months before the newest month in the table has stopped reporting and is not judged.
Defaults N = 4, M = 6: most of the last half-year, so one bad month or a short dip is not enough.
"""
from __future__ import annotations

import json
import math

import pandas as pd

from citystat.budget.outcomes import OutcomeData, month_label, month_ordinal

DEFAULT_RED_PERIODS = 4  # N
DEFAULT_WINDOW = 6  # M

FAILING_COLUMNS = [
    "entity_type", "entity_id", "entity_name", "program_code", "department_code", "service_area", "outcome_measure",
    "rule", "red_periods", "window_periods", "window_start", "window_end", "red_period_list", "latest_status",
    "latest_value", "latest_target", "mean_value_in_window", "mean_target_in_window", "evidence",
]

COLUMN_DOCS = {
    "entity_type": "site (a human-services centre judged on its own outcome target) or kpi (an outcome KPI of the registry)",
    "entity_id": "site_id or kpi_id",
    "entity_name": "site name or KPI name",
    "program_code": "programme(s) the entity's outcome belongs to (comma-separated for a department KPI shared by several)",
    "department_code": "department code",
    "service_area": "district a site serves (sites only)",
    "outcome_measure": "what the outcome measures (site outcome_measure or the KPI id)",
    "rule": "the rule applied, e.g. red in >= 4 of the last 6 months",
    "red_periods": "months in the window with status red (N or more = failing)",
    "window_periods": "window length M in months",
    "window_start": "first month of the window (YYYY-MM)",
    "window_end": "last month of the window = the entity's latest month with data (YYYY-MM)",
    "red_period_list": "the red months, comma-separated",
    "latest_status": "status in window_end (green/yellow/red/gray)",
    "latest_value": "value in window_end",
    "latest_target": "target in window_end",
    "mean_value_in_window": "mean value over the months of the window with data",
    "mean_target_in_window": "mean target over the months of the window with data",
    "evidence": "JSON list, one object per month of the window: period, value, target, status, status_reason",
}


def check_rule(red_periods: int, window: int) -> None:
    if window < 1:
        raise ValueError(f"window M must be at least 1 month (got {window})")
    if not 1 <= red_periods <= window:
        raise ValueError(f"red periods N must be between 1 and the window M={window} (got {red_periods})")


def rule_text(red_periods: int, window: int) -> str:
    return f"red in >= {red_periods} of the last {window} months"


def _number(x):
    return None if x is None or (isinstance(x, float) and math.isnan(x)) else float(x)


def _text(row, column: str):
    value = getattr(row, column, None)
    return None if value is None or (isinstance(value, float) and math.isnan(value)) else value


def red_in_n_of_m(status: pd.DataFrame, red_periods: int = DEFAULT_RED_PERIODS, window: int = DEFAULT_WINDOW) -> pd.DataFrame:
    """Entities red in at least ``red_periods`` of their last ``window`` months, with the evidence.

    ``status`` has one row per entity and month: ``entity_type, entity_id, period (YYYY-MM), value, target, status,
    status_reason`` and optionally ``entity_name, program_code, department_code, service_area, outcome_measure``.
    """
    check_rule(red_periods, window)
    if status.empty:
        return pd.DataFrame(columns=FAILING_COLUMNS)
    frame = status.copy()
    frame["ordinal"] = frame["period"].map(month_ordinal)
    newest = frame["ordinal"].max()
    rows = []
    for (entity_type, entity_id), group in frame.groupby(["entity_type", "entity_id"], sort=True):
        end = group["ordinal"].max()
        if end < newest - window + 1:  # stopped reporting before the current window
            continue
        by_month = {row.ordinal: row for row in group.itertuples()}
        evidence, red = [], []
        for ordinal in range(end - window + 1, end + 1):
            label = month_label(ordinal)
            row = by_month.get(ordinal)
            if row is None:
                evidence.append({"period": label, "value": None, "target": None, "status": "no data",
                                 "status_reason": "no row for the month"})
                continue
            evidence.append({"period": label, "value": _number(row.value), "target": _number(row.target),
                             "status": row.status, "status_reason": row.status_reason})
            if row.status == "red":
                red.append(label)
        if len(red) < red_periods:
            continue
        in_window = group[group["ordinal"] > end - window]
        latest = by_month[end]
        rows.append({
            "entity_type": entity_type, "entity_id": entity_id,
            "entity_name": _text(latest, "entity_name") or entity_id,
            "program_code": _text(latest, "program_code"),
            "department_code": _text(latest, "department_code"),
            "service_area": _text(latest, "service_area"),
            "outcome_measure": _text(latest, "outcome_measure"),
            "rule": rule_text(red_periods, window), "red_periods": len(red), "window_periods": window,
            "window_start": month_label(end - window + 1), "window_end": month_label(end),
            "red_period_list": ", ".join(red), "latest_status": latest.status,
            "latest_value": _number(latest.value), "latest_target": _number(latest.target),
            "mean_value_in_window": _number(in_window["value"].astype("float64").mean()),
            "mean_target_in_window": _number(in_window["target"].astype("float64").mean()),
            "evidence": json.dumps(evidence),
        })
    result = pd.DataFrame(rows, columns=FAILING_COLUMNS)
    # sites first (they have alternatives to move to), then the most persistent failures
    return result.sort_values(["entity_type", "red_periods", "entity_id"], ascending=[False, False, True]).reset_index(drop=True)


def entity_status(data: OutcomeData) -> pd.DataFrame:
    """Sites and outcome KPIs as one long status table for ``red_in_n_of_m``."""
    sites = data.sites.assign(entity_type="site").rename(columns={
        "site_id": "entity_id", "site_name": "entity_name", "outcome_value": "value", "outcome_target": "target"})
    # a KPI judges the programmes mapped to it; one mapped to none speaks for its department's programmes
    programmes_of = data.outcome_kpis.groupby("kpi_id")["program_code"].apply(lambda s: ", ".join(sorted(set(s))))
    of_department = data.programmes.groupby("department_code")["program_code"].apply(lambda s: ", ".join(sorted(set(s))))
    outcome_ids = [k.id for k in data.registry.kpis.values() if k.kind == "outcome"]
    kpis = data.kpis[data.kpis["kpi_id"].isin(outcome_ids)].assign(entity_type="kpi")
    kpis = kpis.assign(entity_id=kpis["kpi_id"], entity_name=kpis["name"], outcome_measure=kpis["kpi_id"],
                       program_code=kpis["kpi_id"].map(programmes_of).fillna(kpis["department_code"].map(of_department)),
                       service_area=None)
    columns = ["entity_type", "entity_id", "entity_name", "program_code", "department_code", "service_area",
               "outcome_measure", "period", "value", "target", "status", "status_reason"]
    return pd.concat([sites[columns], kpis[columns]], ignore_index=True)


def failing_programmes(data: OutcomeData, red_periods: int = DEFAULT_RED_PERIODS, window: int = DEFAULT_WINDOW) -> pd.DataFrame:
    """metrics.failing_programmes: every site and outcome KPI red in at least N of its last M months."""
    return red_in_n_of_m(entity_status(data), red_periods, window)
