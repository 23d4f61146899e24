"""The published KPI series and strategic-goal progress: frames and data dictionaries for the open-data exports.

Both read only the snapshot's metrics tables and pass the same gate as the other exports: text is scrubbed with
the marts' redaction macro, and a value that rests on fewer than ``k`` records (a count from 1 to k-1, or a rate
whose denominator is 1 to k-1) is published empty, in the series and on the goal that shows it or adds it up (the
goal's total and verdict too, so no subtraction recovers it). A series has no published totals, so no complementary
suppression is needed there.
"""
from __future__ import annotations

import duckdb
import pandas as pd

from citystat.open_data.privacy import scrub_sql

KPI_SERIES_ID = "kpi_series"
GOAL_PROGRESS_ID = "strategic_goal_progress"
# The snapshot tables each export reads (what decides whether it must be written again: open_data/record.py)
KPI_SERIES_TABLES = ("metrics.kpi_status", "metrics.kpi_series", "metrics.kpi_registry")
GOAL_PROGRESS_TABLES = ("metrics.goal_progress", "metrics.kpi_series", "metrics.kpi_registry")
DEFINITION_COLUMNS = ["kpi_id", "kpi_name", "department_code", "strategic_priority", "kind", "unit",
                      "desired_direction", "grain", "yellow_band", "red_band", "description"]
SERIES_FIELDS = {
    "kpi_id": "KPI identifier (its definition is in this dictionary's `kpis`)",
    "kpi_name": "KPI name",
    "department_code": "department that answers for the KPI",
    "period": "month (YYYY-MM)",
    "value": "the month's value in `unit`; empty when it rests on fewer than k records (suppressed) or was not reported",
    "unit": "unit of value and target (pct = 0-100, count, seconds, days, usd, ...)",
    "target": "the month's target",
    "desired_direction": "up: higher is better; down: lower is better",
    "status": "green (meets target), yellow (within the band), red (beyond the band), gray (no data), suppressed",
    "status_reason": "why the status, in words",
}
GOAL_FIELDS = {
    "goal_id": "goal identifier", "title": "the goal in words", "kpi_id": "the KPI that counts it",
    "department_code": "department that answers for it", "unit": "unit of baseline, target and current value",
    "measure": "level (latest month's value) or cumulative (added up since the start)",
    "goal_type": "increase, decrease or maintain", "start_date": "start of the goal", "deadline": "deadline",
    "as_of": "date the data runs to", "baseline": "value at the start", "target_value": "value to reach",
    "current_value": "value now (empty when suppressed: fewer than k records)",
    "progress": "share of the way from baseline to target, 0-1", "elapsed_share": "share of the time used, 0-1",
    "days_elapsed": "days since the start (stops at the deadline)", "days_total": "days from start to deadline",
    "days_remaining": "days to the deadline",
    "pace_needed_per_day": "change per day needed from the start to reach the target on time",
    "actual_pace_per_day": "change per day so far", "pace_to_finish_per_day": "change per day needed from now on",
    "projected_completion_date": "when the target is reached at the pace so far",
    "status": "on track, off track, achieved, missed, not started, no data, withheld (rests on fewer than k records)",
    "final": "true once the deadline has passed (the verdict no longer changes)",
    "caveat": "known problem with the data behind the count", "method": "how the count is made, in words",
}


def kpi_series_frame(con: duckdb.DuckDBPyConnection, kpi_ids: tuple[str, ...], k: int) -> tuple[pd.DataFrame, dict]:
    """The monthly series of the published KPIs, small values suppressed; returns (frame, dictionary)."""
    definitions = _definitions(con, kpi_ids)
    frame = con.execute(f"""
        SELECT s.kpi_id, {scrub_sql('kpi_name')} AS kpi_name, s.department_code, s.period,
               CASE WHEN {_small('s', k)} THEN NULL ELSE s.value END AS value,
               s.unit, s.target, s.desired_direction,
               CASE WHEN {_small('s', k)} THEN 'suppressed' ELSE s.status END AS status,
               CASE WHEN {_small('s', k)} THEN 'fewer than {int(k)} records: value withheld'
                    ELSE {scrub_sql('status_reason')} END AS status_reason
        FROM (SELECT st.*, se.numerator, se.denominator FROM metrics.kpi_status st
              LEFT JOIN metrics.kpi_series se USING (kpi_id, period)) AS s
        WHERE s.kpi_id IN (SELECT unnest(?::VARCHAR[]))
        ORDER BY s.kpi_id, s.period""", [list(kpi_ids)]).df()
    suppressed = int((frame["status"] == "suppressed").sum())
    dictionary = {
        "name": KPI_SERIES_ID, "title": "Published performance measures (KPIs), monthly",
        "description": "Each published KPI's monthly value, target and status; the KPIs' definitions are in `kpis`.",
        "fields": [{"name": c, "type": str(frame[c].dtype), "description": SERIES_FIELDS[c]} for c in frame.columns],
        "kpis": definitions,
        "privacy": {"k": k, "suppressed_cells": suppressed,
                    "rule": f"a value resting on 1 to {k - 1} records (a count, or a rate's denominator) is empty"},
    }
    return frame, dictionary


def goal_progress_frame(con: duckdb.DuckDBPyConnection, k: int) -> tuple[pd.DataFrame, dict]:
    """Each strategic goal's progress, pace and the method behind its count; returns (frame, dictionary)."""
    frame = con.execute(f"""
        WITH latest AS (  -- the month a level goal's current value comes from: the last one up to its judged date
            SELECT g.goal_id, se.value, se.numerator, se.denominator, se.unit,
                   row_number() OVER (PARTITION BY g.goal_id ORDER BY se.period_month DESC) AS rn
            FROM metrics.goal_progress g JOIN metrics.kpi_series se
              ON se.kpi_id = g.kpi_id AND se.period_month <= g.judged_on AND se.value IS NOT NULL),
        small_inside AS (  -- a cumulative goal adds up every month since its start: one withheld month inside the
                           -- total could be recovered by subtracting the published months from it
            SELECT DISTINCT g.goal_id FROM metrics.goal_progress g JOIN metrics.kpi_series se
              ON se.kpi_id = g.kpi_id AND se.period_month >= date_trunc('month', g.start_date)
             AND se.period_month <= g.judged_on
            WHERE g.measure = 'cumulative' AND coalesce({_small_values('se', k)}, false)),
        goals AS (
            SELECT g.*, r.unit, r.kpi_name, r.description AS kpi_description,
                   (g.measure = 'level' AND coalesce({_small_values('l', k)}, false)) OR s.goal_id IS NOT NULL AS withheld
            FROM metrics.goal_progress g JOIN metrics.kpi_registry r USING (kpi_id)
            LEFT JOIN latest l ON l.goal_id = g.goal_id AND l.rn = 1
            LEFT JOIN small_inside s ON s.goal_id = g.goal_id)
        SELECT goal_id, {scrub_sql('title')} AS title, kpi_id, department_code, unit, measure, goal_type,
               start_date::DATE AS start_date, deadline::DATE AS deadline, as_of::DATE AS as_of,
               baseline, target_value,
               CASE WHEN withheld THEN NULL ELSE current_value END AS current_value,
               CASE WHEN withheld THEN NULL ELSE progress END AS progress,
               elapsed_share, days_elapsed, days_total, days_remaining, pace_needed_per_day,
               CASE WHEN withheld THEN NULL ELSE actual_pace_per_day END AS actual_pace_per_day,
               CASE WHEN withheld THEN NULL ELSE pace_to_finish_per_day END AS pace_to_finish_per_day,
               CASE WHEN withheld THEN NULL ELSE projected_completion_date::DATE END AS projected_completion_date,
               CASE WHEN withheld THEN 'withheld' ELSE status END AS status,  -- the verdict compares the value too
               final, {scrub_sql('caveat')} AS caveat,
               {scrub_sql('kpi_method')} AS method
        FROM (SELECT *, concat(
                  'Counted by the KPI "', kpi_name, '": ', kpi_description, ' ',
                  CASE WHEN measure = 'cumulative'
                       THEN 'Each month''s count is added up since ' || strftime(start_date, '%Y-%m-%d') || ', on top of the baseline.'
                       ELSE 'The current value is the latest month''s value.' END,
                  ' Progress is (current - baseline) / (target - baseline); the goal is on track when its progress is at ',
                  'least the share of the time used. ',
                  CASE WHEN withheld AND measure = 'cumulative'
                       THEN 'A month inside the total rests on fewer than {int(k)} records, so the total, the progress, '
                            || 'the pace and the verdict are withheld.'
                       WHEN withheld
                       THEN 'The current value rests on fewer than {int(k)} records, so it, the progress, the pace and '
                            || 'the verdict are withheld.' ELSE '' END
              ) AS kpi_method FROM goals)
        ORDER BY goal_id""").df()
    dictionary = {
        "name": GOAL_PROGRESS_ID, "title": "Strategic goals: progress, pace and method",
        "description": "Each strategic goal of the city: where it started, its target and deadline, how far it has come, "
                       "the pace it needs, and how its count is made.",
        "fields": [{"name": c, "type": str(frame[c].dtype), "description": GOAL_FIELDS[c]} for c in frame.columns],
        "privacy": {"k": k, "suppressed_cells": int((frame["status"] == "withheld").sum()),
                    "rule": f"a level goal whose latest month, or a cumulative goal any of whose months, rests on 1 to "
                            f"{k - 1} records shows no current value, progress, pace or verdict (status withheld)"},
    }
    return frame, dictionary


def _definitions(con, kpi_ids: tuple[str, ...]) -> list[dict]:
    columns = ", ".join(DEFINITION_COLUMNS)
    rows = con.execute(f"SELECT {columns} FROM metrics.kpi_registry WHERE kpi_id IN (SELECT unnest(?::VARCHAR[]))",
                       [list(kpi_ids)]).df()
    unknown = sorted(set(kpi_ids) - set(rows["kpi_id"]))
    if unknown:
        raise ValueError(f"open_data.yaml kpis: {', '.join(unknown)} not in the KPI registry")
    order = {kpi: i for i, kpi in enumerate(kpi_ids)}
    records = rows.astype(object).where(rows.notna(), None).to_dict("records")
    return sorted(records, key=lambda r: order[r["kpi_id"]])


def _small(alias: str, k: int) -> str:
    return f"coalesce({_small_values(alias, k)}, false)"


def _small_values(alias: str, k: int) -> str:
    """SQL: the row's value rests on 1 to k-1 records (a count below k, or a rate over fewer than k)."""
    k = int(k)
    return (f"(({alias}.unit = 'count' AND {alias}.value > 0 AND {alias}.value < {k}) "
            f"OR ({alias}.denominator > 0 AND {alias}.denominator < {k}))")
