"""A CityScore-style index (Boston): per-KPI scores rolled up per department and citywide, by day/week/month/quarter.

A KPI's score in a bucket is the mean of its scores in the periods inside the bucket; a department's score is the
mean of its KPIs' bucket scores, the city's the mean over all KPIs (not over departments), as Boston averages
metric scores. KPIs without a score (no target, direction none, no data) are left out and counted as such.
"""
from __future__ import annotations

import datetime as dt

import pandas as pd

from citystat.kpi.periods import FISCAL_YEAR_START_MONTH, fiscal_year_of, parse_period

GRAINS = ("day", "week", "month", "quarter")
# which rollups each input grain supports: a month's score cannot be split into days or weeks
_SUPPORTED = {"day": GRAINS, "month": ("month", "quarter"), "fiscal_year": ()}
CITYSCORE_COLUMNS = ["grain", "period", "period_start", "level", "department_code", "kpi_id", "score", "metrics_scored"]


def bucket(day: dt.date, grain: str) -> tuple[str, dt.date]:
    """(label, first day) of the bucket holding ``day``: ISO week (Monday start), month, fiscal quarter (Q1 = Jul-Sep)."""
    if grain == "day":
        return day.isoformat(), day
    if grain == "week":
        year, week, _ = day.isocalendar()
        return f"{year}-W{week:02d}", day - dt.timedelta(days=day.weekday())
    if grain == "month":
        return f"{day.year:04d}-{day.month:02d}", day.replace(day=1)
    if grain == "quarter":
        quarter = ((day.month - FISCAL_YEAR_START_MONTH) % 12) // 3 + 1
        start_month = (FISCAL_YEAR_START_MONTH - 1 + (quarter - 1) * 3) % 12 + 1
        start_year = day.year if start_month <= day.month else day.year - 1
        return f"FY{fiscal_year_of(day)}-Q{quarter}", dt.date(start_year, start_month, 1)
    raise ValueError(f"grain {grain!r} is not one of {', '.join(GRAINS)}")


def rollup(scores: pd.DataFrame, grain: str) -> pd.DataFrame:
    """Scores (kpi_id, department_code, period, score — e.g. the status table) rolled up to ``grain``."""
    if grain not in GRAINS:
        raise ValueError(f"grain {grain!r} is not one of {', '.join(GRAINS)}")
    frame = scores[["kpi_id", "department_code", "period", "score"]].copy()
    if frame.empty:
        return pd.DataFrame(columns=CITYSCORE_COLUMNS)
    periods = frame["period"].map(parse_period)
    for input_grain in sorted(set(p.grain for p in periods)):
        if grain not in _SUPPORTED[input_grain]:
            raise ValueError(f"cannot roll {input_grain} scores up to {grain} (supported: {', '.join(_SUPPORTED[input_grain]) or 'none'})")
    buckets = [bucket(p.start, grain) for p in periods]
    frame["bucket"] = [b[0] for b in buckets]
    frame["period_start"] = [b[1] for b in buckets]
    frame["department_code"] = frame["department_code"].astype(object).where(frame["department_code"].notna(), "unassigned")
    per_kpi = (frame.groupby(["bucket", "period_start", "department_code", "kpi_id"], as_index=False)
               .agg(score=("score", "mean")))
    per_kpi["scored"] = per_kpi["score"].notna().astype(int)
    department = (per_kpi.groupby(["bucket", "period_start", "department_code"], as_index=False)
                  .agg(score=("score", "mean"), metrics_scored=("scored", "sum")))
    citywide = (per_kpi.groupby(["bucket", "period_start"], as_index=False)
                .agg(score=("score", "mean"), metrics_scored=("scored", "sum")))
    per_kpi = per_kpi.rename(columns={"scored": "metrics_scored"})
    parts = [per_kpi.assign(level="kpi"), department.assign(level="department", kpi_id=None),
             citywide.assign(level="citywide", department_code=None, kpi_id=None)]
    out = pd.concat(parts, ignore_index=True).rename(columns={"bucket": "period"}).assign(grain=grain)
    level_order = out["level"].map({"citywide": 0, "department": 1, "kpi": 2})
    out = out.assign(_order=level_order).sort_values(["period_start", "_order", "department_code", "kpi_id"],
                                                     na_position="first").drop(columns="_order")
    return out[CITYSCORE_COLUMNS].reset_index(drop=True)


def cityscore_table(scores: pd.DataFrame, grains: tuple[str, ...] | None = None) -> pd.DataFrame:
    """Every requested grain (default: each one the input supports) in one long table."""
    if grains is None:
        input_grains = set(parse_period(p).grain for p in scores["period"].unique())
        grains = tuple(g for g in GRAINS if all(g in _SUPPORTED[ig] for ig in input_grains))
    parts = [rollup(scores, g) for g in grains]
    return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=CITYSCORE_COLUMNS)
