"""The KPI metrics tables of the warehouse (``metrics.*``), built from the marts with the KPI engine.

Each ``write_*`` function reads what it needs from a DuckDB connection (the marts, or a metrics table written
before it), runs the pure rules of ``citystat.kpi`` (series, status, flags, goals, cityscore, memo) and
writes its table with ``CREATE OR REPLACE`` and ``COMMENT ON`` docs (docs/contracts.md, "Metrics assets").
The Dagster assets (``orchestration/defs/metrics/kpi.py``) are thin wrappers around these; analysts' documentation of
every table and column is docs/metrics_tables.md, and the rules are docs/kpi_rules.md.
"""
from __future__ import annotations

import calendar
import datetime as dt
import os
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import pandas as pd

from citystat.kpi import caveats, cityscore, flags, goals, memo, series, status
from citystat.kpi.periods import parse_period
from citystat.kpi.problems import Problem, ValidationError
from citystat.kpi.registry import Registry
from citystat.kpi.submissions import check_submissions, location
from citystat import settings
from citystat.settings import warehouse_dir
from citystat.warehouse import MissingMartError, comment_table, has_table, read, require, scalar, write_table

FLAG_ACTIONS_ENV = "CITYSTAT_FLAG_ACTIONS"

KPI_VALUES = "marts.kpi_values"
SUBMISSIONS = "staging.stg_perf_office__kpi_submissions"
SUBMISSIONS_QUARANTINE = "quality.quarantine_perf_office__kpi_submissions"
GOALS = "staging.stg_perf_office__strategic_goals"
WORKBENCH_ACTIONS = "staging.stg_perf_workbench__flag_actions"
WORKBENCH_COMMENTARY = "staging.stg_perf_workbench__commentary"
SERVICE_REQUESTS = "marts.fct_service_requests"

# ---- table and column documentation (COMMENT ON; docs/metrics_tables.md says the same at more length) ----------

_KPI = {
    "kpi_id": "KPI id (metrics.kpi_registry.kpi_id).",
    "kpi_name": "The KPI's plain-language name.",
    "department_code": "Department code of the KPI (docs/contracts.md).",
    "period": "Reporting month, YYYY-MM.",
    "period_month": "First day of the reporting month.",
    "fiscal_year": "Fiscal year of the month (July-June, named by its end year: FY2026 = July 2025 - June 2026).",
    "source": "computed (from marts.kpi_values) or submitted (the performance office's template); never both for one KPI.",
    "unit": "Unit of value: pct (0-100), count, ratio, days, hours, seconds, usd, miles, acres, points.",
    "value": "The KPI value in its unit; NULL when there is no value (e.g. a zero denominator).",
    "target": "Target for the period from kpi_targets (annual targets of fiscal-year-to-date counts prorated by fiscal month); NULL = no target.",
    "target_basis": "Where the target came from: registry, or 'registry, prorated m/12' for fiscal-year-to-date counts.",
    "desired_direction": "up (higher is better), down (lower is better) or none (no target call).",
}

TABLE_DOCS: dict[str, tuple[str, dict[str, str]]] = {
    "kpi_registry": (
        "The KPI registry: one row per KPI with its definition, department, kind, pairing, unit, direction, grain, "
        "bands, flag threshold and lineage (seeds kpi_registry.csv; rules: docs/kpi_rules.md).",
        {
            "kpi_id": "Stable KPI id, <department_code>_<measure>.",
            "kpi_name": "Plain-language name.",
            "department_code": "Department responsible.",
            "strategic_priority": "The citywide priority the KPI serves.",
            "kind": "output (volume of work), outcome (result for residents) or efficiency (time or cost per unit).",
            "paired_kpi_id": "For outputs: the outcome KPI read beside it; else empty.",
            "unit": _KPI["unit"],
            "desired_direction": _KPI["desired_direction"],
            "grain": "month (the month's value) or fytd (fiscal year to date through the month).",
            "yellow_band": "Yellow when at most this fraction off target on the wrong side (0.10 = 10%).",
            "red_band": "When set, red starts beyond this fraction instead of beyond yellow_band.",
            "critical": "Critical indicator (MMR): listed first in the memo when red.",
            "flag_threshold": "Period-over-period relative change that raises a flag (0.10 = 10%).",
            "min_periods_for_status": "Periods with data needed before a colour is shown.",
            "lineage": "Inventory datasets the value comes from, system.dataset separated by ';'.",
            "source": "computed (marts.kpi_values) or submitted (performance office template).",
            "description": "Exact definition: numerator, denominator, period.",
            "rules_profile": "Status and trend rules applied to the KPI: default (docs/kpi_rules.md) or mmr (the NYC "
                             "Comptroller's evaluation of the Mayor's Management Report).",
        },
    ),
    "kpi_series": (
        "Every KPI value, one row per KPI and month: computed values from marts.kpi_values and the values departments "
        "submit (validated; source = submitted), with the registry's unit, direction and the period's target.",
        {
            **{k: _KPI[k] for k in ("kpi_id", "kpi_name", "department_code", "period", "period_month", "fiscal_year",
                                    "source", "value")},
            "numerator": "Numerator of the value (count or sum), where the KPI has one.",
            "denominator": "Denominator of the value (or the number of observations of a median/percentile), where it has one.",
            "unit": _KPI["unit"],
            "grain": "month or fytd (the value is fiscal-year-to-date through the month).",
            "kind": "output, outcome or efficiency.",
            "desired_direction": _KPI["desired_direction"],
            "target": _KPI["target"],
            "target_basis": _KPI["target_basis"],
            "submitted_at": "Submitted values: when the department submitted it (local time); else NULL.",
            "submission_file": "Submitted values: the template file and line it came from; else NULL.",
            "submission_notes": "Submitted values: the submitter's note (contact details masked); else NULL.",
        },
    ),
    "kpi_submission_problems": (
        "Submitted KPI rows left out of metrics.kpi_series, one row per problem, naming the file, line and field "
        "(rows quarantined by staging are listed too, with their quarantine reason).",
        {
            "submission_file": "The template file and line, e.g. kpi_submissions_2025-03.csv line 4.",
            "kpi_id": "The row's kpi_id as submitted.",
            "period": "The row's period as submitted (YYYY-MM).",
            "field": "The field at fault (or the staging quarantine rule).",
            "problem": "What is wrong, in words.",
            "stage": "metrics (checked against the KPI registry) or staging (quarantined by the inventory's field rules).",
        },
    ),
    "kpi_status": (
        "Status of every KPI and month (docs/kpi_rules.md): met target, red/yellow/green/gray with the reason, "
        "CityScore-style score, trends against last year and the 3- and 5-year averages, period-over-period change and flag.",
        {
            **{k: _KPI[k] for k in ("kpi_id", "kpi_name", "department_code", "period", "period_month", "fiscal_year",
                                    "source", "unit", "value", "target", "target_basis", "desired_direction")},
            "critical": "Critical indicator (MMR).",
            "met": "Meets or beats the target (direction-aware); NULL when no call (no value, no target, direction none).",
            "status": "green (meets), yellow (within the band on the wrong side), red (beyond), gray (no call).",
            "status_reason": "Which rule set the colour, in words (e.g. '12.0% below target (beyond the 10% band)').",
            "distance_from_target": "|value - target| / |target| (infinite when the target is 0 and the value is not).",
            "score": "CityScore-style score: value / target (target / value when lower is better), capped at 1.25; 1 = on target.",
            "periods_with_data": "Periods with a value up to and including this one.",
            "previous_period": "The latest earlier period with a value (missing months are skipped).",
            "previous_value": "The value in previous_period.",
            "gap_periods": "Months without a value between previous_period and this one (0 = consecutive).",
            "relative_change": "(value - previous_value) / |previous_value|.",
            "change_direction": "better / worse (directed KPIs), up / down (direction none) or flat.",
            "flag_threshold": "The KPI's period-over-period flag threshold (0.10 = 10%).",
            "pop_flag": "The change reached the threshold (either way); worsening ones raise a flag in metrics.flags.",
            "last_year_value": "Value in the same month a year earlier.",
            "trend_vs_last_year": "improving / not improving / insufficient data against last year (NULL for direction none).",
            "avg_3yr": "Mean of the same month in the three prior years (all three needed).",
            "trend_vs_3yr_avg": "improving / not improving / insufficient data against avg_3yr.",
            "avg_5yr": "Mean of the same month in the five prior years (all five needed).",
            "trend_vs_5yr_avg": "improving / not improving / insufficient data against avg_5yr.",
            "rules_profile": "Rules applied: default, or mmr (met and colour on the fiscal-year-to-date value; an unchanged "
                             "value counts as improving; 3- and 5-year averages over the prior years available).",
            "comparison_basis": "How previous_value was chosen: 'previous period' (the latest earlier month with a value; for "
                                "fiscal-year-to-date KPIs only within the same fiscal year) or 'same period last year' (the "
                                "first value of a fiscal year of a fiscal-year-to-date KPI); NULL = no comparison.",
            "ytd_value": "Fiscal year to date value: the value itself for fiscal-year-to-date KPIs, else the mean of the fiscal "
                         "year's monthly values so far (what the mmr profile judges).",
            "gray_reason": "Why the status is gray: no data, tracked (direction none: a volume read beside its outcome, "
                           "never rated), no target, or too few periods; NULL when the status is a colour.",
            "caveat": "Data held back at landing (e.g. a file refused for schema drift) from a dataset the KPI comes from, "
                      "so the value may be short; NULL when nothing is held back.",
        },
    ),
    "goal_progress": (
        "Pacing of the strategic goals on the as-of date: progress, pace needed against actual pace, projected "
        "completion date and on/off track (docs/kpi_rules.md, section 5).",
        {
            "goal_id": "Goal id from the strategic goals register.",
            "title": "The goal as the city states it.",
            "kpi_id": "The KPI that measures it.",
            "department_code": "Department that owns it.",
            "owner": "Person accountable.",
            "measure": "cumulative (baseline + the KPI's values summed since the start) or level (the latest value).",
            "as_of": "The date the pacing is computed for (the data's as-of date).",
            "start_date": "Day the goal starts.",
            "deadline": "Day the goal must be met.",
            "baseline": "Value at the start.",
            "target_value": "Value to reach.",
            "current_value": "Value on as_of (cumulative or level, see measure); NULL = no data yet.",
            "progress": "Bounded 0-1: (current - baseline) / (target - baseline) limited to [0, 1] for increase and "
                        "decrease goals (0 = no progress or worse than baseline, 1 = achieved); for maintain goals the "
                        "share of periods since the start that held the level.",
            "days_elapsed": "Days from start_date to judged_on (the deadline stops the clock).",
            "days_total": "Days from start_date to deadline.",
            "days_remaining": "Days from as_of to deadline (0 once passed).",
            "elapsed_share": "days_elapsed / days_total, at most 1.",
            "pace_needed_per_day": "(target - baseline) / days_total.",
            "actual_pace_per_day": "(current - baseline) / days_elapsed.",
            "pace_to_finish_per_day": "(target - current) / days_remaining: the pace needed from now on.",
            "projected_completion_date": "start_date + ceil((target - baseline) / actual pace) days; NULL without progress.",
            "status": "not started, no data, achieved, missed, on track or off track; past the deadline only the final "
                      "verdict (achieved or missed), judged on values up to the deadline.",
            "goal_type": "increase (target above baseline), decrease ('reduce to': target below baseline) or maintain "
                         "(target = baseline: hold the level).",
            "change_from_baseline": "current_value - baseline, signed (progress is bounded to 0-1; this keeps a move the "
                                    "wrong way visible).",
            "judged_on": "min(as_of, deadline): the date the value is read on; later values never count.",
            "final": "The deadline has passed: status is the final verdict.",
            "caveat": "Data held back at landing from a dataset the goal's KPI comes from (the value may be short); NULL "
                      "when nothing is held back.",
        },
    ),
    "cityscore": (
        "CityScore-style index (Boston): KPI scores rolled up per KPI, department and citywide by day, ISO week, "
        "month and fiscal quarter. Day and week rows come from the KPIs measured per day (311 on-time by department "
        "and citywide, potholes and streetlights within SLA, from marts.fct_service_requests); month and quarter rows "
        "from every scored KPI in metrics.kpi_status.",
        {
            "grain": "day, week, month or quarter.",
            "period": "The bucket: 2026-01-15, 2026-W03, 2026-01 or FY2026-Q3 (fiscal quarters, Q1 = July-September).",
            "period_start": "First day of the bucket.",
            "level": "kpi, department or citywide.",
            "department_code": "Department (NULL on citywide rows).",
            "kpi_id": "KPI (kpi rows only).",
            "score": "Mean score (1 = on target, capped at 1.25): a KPI's over its periods in the bucket; a department's "
                     "over its KPIs; citywide over all KPIs (Boston averages metrics, not departments).",
            "metrics_scored": "KPIs with a score included in the row.",
        },
    ),
    "kpi_commentary": (
        "A line of context per KPI and month written in the performance office's workbench (the latest line "
        "written wins), landed from its database like any source (staging.stg_perf_workbench__commentary).",
        {
            "kpi_id": "KPI.",
            "department_code": "Its department.",
            "period": "Month the line is about (YYYY-MM).",
            "comment": "The line, as written (free text: escape it wherever it is shown).",
            "author": "Workbench account that wrote it.",
            "written_at": "When.",
        },
    ),
}

FLAG_DOCS = (
    "KPI flags, one per <kpi_id>:<period>:<kind> (red, worsened, moved; manual when raised by hand in the workbench), kept across runs (never "
    "duplicated, never deleted); status is that of the latest action in metrics.flag_actions (docs/kpi_rules.md, section 4).",
    {
        "flag_id": "Stable id <kpi_id>:<period>:<kind>.",
        "kpi_id": "KPI flagged.",
        "kpi_name": "Its name.",
        "department_code": "Its department.",
        "period": "Month the condition appeared (YYYY-MM).",
        "kind": "red (turned red; absorbs the move that took it there), worsened (moved the wrong way past the threshold, "
                "other than the move that turned it red), moved (direction-none KPI past the threshold), manual (raised by "
                "hand in the workbench: a small move that matters more than its threshold says).",
        "critical": "Critical indicator.",
        "value": "Value in the flagged period.",
        "baseline_period": "Swings: the period compared with.",
        "baseline_value": "Swings: the value before the swing.",
        "target": "Target in the flagged period.",
        "relative_change": "Swings: the relative change that raised the flag.",
        "threshold": "The KPI's flag threshold.",
        "rag_status": "Status (colour) in the flagged period.",
        "message": "What happened, in words.",
        "status": "open, acknowledged, escalated, resolved (recovered on the rule that raised it) or condition cleared "
                  "(the condition went away without that recovery) - the latest action.",
        "raised_at": "When the engine raised it.",
        "updated_at": "Time of the latest action.",
        "condition_present": "Does the latest evaluation still show the condition (false after a data revision removed it).",
        "last_evaluated_at": "Last time the engine looked at it.",
        "recovered_period": "First later month in which the indicator recovered on the rule that raised the flag (the "
                            "engine then resolves the flag once).",
        "comparison_basis": "Swings: previous period, or same period last year (first month of a fiscal year of a "
                            "fiscal-year-to-date KPI).",
        "cleared_period": "First later month in which the condition cleared without that recovery (state 'condition cleared').",
        "opened_on": "Last day of the flagged month: when the data first showed the condition.",
        "closed_on": "Last day of the month that recovered or cleared it; NULL while open.",
        "days_open": "Days from opened_on to closed_on, or to the data's as-of date while open; an open flag with no "
                     "action for more than 60 days is escalated by the engine.",
        "commitment": "The latest commitment made on the flag in the workbench (free text).",
        "commitment_owner": "Who is accountable for it.",
        "commitment_due": "When it is due.",
        "follow_up": "The latest follow-up on it: done, slipped or not started.",
    },
)
FLAG_ACTION_DOCS = (
    "Append-only log of what was done about each flag: who, when, what, and the status it left the flag in "
    "(source engine, cli, csv: the office's CSV imported each run, or workbench: commitments, follow-ups, escalations, "
    "manual flags and dismissals landed from the workbench's database).",
    {
        "action_id": "Hash of (flag_id, acted_at, actor, action, status): the same action is never logged twice.",
        "flag_id": "The flag (metrics.flags.flag_id).",
        "acted_at": "When it was done (local time).",
        "actor": "Who did it (citystat for the engine).",
        "action": "What was done.",
        "status": "Status of the flag after the action: open, acknowledged, escalated, resolved or condition cleared.",
        "source": "engine, cli, csv or workbench.",
        "recorded_at": "When the row was written.",
        "seq": "Recording order (breaks ties between equal acted_at).",
    },
)

STATUS_TABLE_COLUMNS = ["kpi_id", "kpi_name", "department_code", "period", "period_month", "fiscal_year", "source",
                        "unit", "value", "target", "target_basis", "desired_direction", "critical", "met", "status",
                        "status_reason", "distance_from_target", "score", "periods_with_data", "previous_period",
                        "previous_value", "gap_periods", "relative_change", "change_direction", "flag_threshold",
                        "pop_flag", "last_year_value", "trend_vs_last_year", "avg_3yr", "trend_vs_3yr_avg", "avg_5yr",
                        "trend_vs_5yr_avg", "rules_profile", "comparison_basis", "ytd_value", "gray_reason", "caveat"]
SERIES_COLUMNS = list(TABLE_DOCS["kpi_series"][1])
PROBLEM_COLUMNS = list(TABLE_DOCS["kpi_submission_problems"][1])
GOAL_TABLE_COLUMNS = list(TABLE_DOCS["goal_progress"][1])
_DATES = {"period_month": "DATE"}


def _write(con: duckdb.DuckDBPyConnection, table: str, frame: pd.DataFrame, types: dict[str, str] | None = None) -> int:
    description, docs = TABLE_DOCS[table]
    return write_table(con, f"metrics.{table}", frame, description, docs, types)


# ---- the as-of date --------------------------------------------------------------------------------------------

def data_as_of(con: duckdb.DuckDBPyConnection) -> dt.date:
    """The data's "today" (``citystat.settings.as_of``), else the last day of the latest month with a computed
    KPI value."""
    stated = settings.as_of()
    if stated is not None:
        return stated
    require(con, KPI_VALUES, ["period_month"], "the as-of date")
    latest = scalar(con, f"SELECT max(period_month) FROM {KPI_VALUES}")
    if latest is None:
        raise ValueError(f"{KPI_VALUES} is empty and no as-of date is set ({settings.AS_OF_ENV}): no as-of date for the KPI metrics")
    latest = pd.Timestamp(latest).date()
    return latest.replace(day=calendar.monthrange(latest.year, latest.month)[1])


def memo_month_for(as_of: dt.date) -> str:
    """The latest month closed on ``as_of`` (its own month when as_of is the month's last day)."""
    closed = as_of if (as_of + dt.timedelta(days=1)).day == 1 else as_of.replace(day=1) - dt.timedelta(days=1)
    return f"{closed.year:04d}-{closed.month:02d}"


# ---- registry --------------------------------------------------------------------------------------------------

def registry_table(registry: Registry) -> pd.DataFrame:
    return registry.frame().rename(columns={"id": "kpi_id", "name": "kpi_name"})


def write_kpi_registry(con: duckdb.DuckDBPyConnection, registry: Registry) -> pd.DataFrame:
    frame = registry_table(registry)
    _write(con, "kpi_registry", frame, {"red_band": "DOUBLE", "critical": "BOOLEAN"})
    return frame


# ---- KPI series: computed + submitted ----------------------------------------------------------------------------

def read_computed(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    require(con, KPI_VALUES, ["kpi_id", "department_code", "period_month", "numerator", "denominator", "value"],
            "metrics.kpi_series")
    return _with_period(read(con, f"""
        SELECT kpi_id, department_code, period_month AS period,
               CAST(numerator AS DOUBLE PRECISION) AS numerator, CAST(denominator AS DOUBLE PRECISION) AS denominator,
               CAST(value AS DOUBLE PRECISION) AS value
        FROM {KPI_VALUES} WHERE period_month IS NOT NULL ORDER BY kpi_id, period_month"""))


def _with_period(frame: pd.DataFrame) -> pd.DataFrame:
    """The ``period`` column (read as the month's first day) as YYYY-MM: formatted here, so the SQL is the same on
    DuckDB and PostgreSQL (strftime is DuckDB's, to_char PostgreSQL's)."""
    frame["period"] = pd.to_datetime(frame["period"]).dt.strftime("%Y-%m").astype(object).where(frame["period"].notna(), None)
    return frame


def read_submitted(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """Submitted rows from staging, with the template file and line they came from (the header is line 1)."""
    require(con, SUBMISSIONS, ["kpi_id", "department_code", "period_month", "value", "numerator", "denominator",
                               "submitted_at", "notes", "_source_file", "_row_number"], "metrics.kpi_series")
    return _with_period(read(con, f"""
        SELECT kpi_id, department_code, period_month AS period,
               CAST(value AS DOUBLE PRECISION) AS value, CAST(numerator AS DOUBLE PRECISION) AS numerator,
               CAST(denominator AS DOUBLE PRECISION) AS denominator, submitted_at, notes,
               _source_file AS source_file, _row_number + 1 AS source_line
        FROM {SUBMISSIONS} ORDER BY _source_file, _row_number"""))


def read_quarantined_submissions(con: duckdb.DuckDBPyConnection) -> list[dict]:
    if not has_table(con, SUBMISSIONS_QUARANTINE):
        return []
    rows = _with_period(read(con, f"""
        SELECT _source_file, _row_number + 1 AS source_line, kpi_id, period_month AS period, _quarantine_rule, _quarantine_reason
        FROM {SUBMISSIONS_QUARANTINE} ORDER BY _source_file, _row_number""")).itertuples(index=False)
    return [{"submission_file": location(f, line), "kpi_id": kpi, "period": period, "field": rule, "problem": reason,
             "stage": "staging"} for f, line, kpi, period, rule, reason in rows]


@dataclass
class SeriesResult:
    series: pd.DataFrame
    problems: pd.DataFrame
    prepared: pd.DataFrame = field(repr=False)


def build_kpi_series(computed: pd.DataFrame, submitted: pd.DataFrame, registry: Registry,
                     as_of: dt.date | None = None, quarantined: list[dict] | None = None) -> SeriesResult:
    """Computed and validated submitted values in one long series, labelled by source, with registry and targets.

    Computed rows of KPIs the registry marks ``submitted`` (or does not know) are left out the same way: a KPI's
    values have one source."""
    checked = check_submissions(submitted, registry, as_of)
    problem_rows = [{"submission_file": p.where, "kpi_id": None, "period": None, "field": p.field, "problem": p.message,
                     "stage": "metrics"} for p in checked.problems]
    raw = {location(r["source_file"], r["source_line"]): r for r in submitted.to_dict("records")}
    for row in problem_rows:
        source = raw.get(row["submission_file"], {})
        row["kpi_id"], row["period"] = source.get("kpi_id"), source.get("period")
    problems = pd.DataFrame(problem_rows + list(quarantined or []), columns=PROBLEM_COLUMNS)

    computed_ids = {k for k, kpi in registry.kpis.items() if kpi.source == "computed"}
    own = computed[computed["kpi_id"].isin(computed_ids)].assign(source="computed")
    accepted = checked.accepted.assign(
        source="submitted",
        submission_file=[location(f, n) for f, n in zip(checked.accepted["source_file"], checked.accepted["source_line"])],
    ).rename(columns={"notes": "submission_notes"})
    values = pd.concat([own, accepted.drop(columns=["source_file", "source_line"])], ignore_index=True)
    for column in ("submitted_at", "submission_file", "submission_notes"):
        if column not in values.columns:
            values[column] = None
    values = values.sort_values(["kpi_id", "period"]).reset_index(drop=True)

    records = series.records_from_frame(values[["kpi_id", "period", "value", "department_code"]], "metrics.kpi_series")
    prepared = series.prepare(records, registry)
    kpis = registry.kpis
    out = values.merge(prepared[["kpi_id", "period", "fiscal_year", "target", "target_basis", "desired_direction"]],
                       on=["kpi_id", "period"], how="left")
    out["kpi_name"] = out["kpi_id"].map(lambda k: kpis[k].name)
    out["unit"] = out["kpi_id"].map(lambda k: kpis[k].unit)
    out["grain"] = out["kpi_id"].map(lambda k: kpis[k].grain)
    out["kind"] = out["kpi_id"].map(lambda k: kpis[k].kind)
    out["period_month"] = out["period"].map(lambda p: parse_period(p).start)
    out["submitted_at"] = pd.to_datetime(out["submitted_at"])
    return SeriesResult(series=out[SERIES_COLUMNS], problems=problems, prepared=prepared)


def write_kpi_series(con: duckdb.DuckDBPyConnection, registry: Registry, as_of: dt.date | None = None) -> SeriesResult:
    """metrics.kpi_series and metrics.kpi_submission_problems."""
    as_of = as_of or data_as_of(con)
    result = build_kpi_series(read_computed(con), read_submitted(con), registry, as_of, read_quarantined_submissions(con))
    _write(con, "kpi_series", result.series, {**_DATES, "submitted_at": "TIMESTAMP", "fiscal_year": "INTEGER"})
    _write(con, "kpi_submission_problems", result.problems)
    return result


def read_series(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    require(con, "metrics.kpi_series", ["kpi_id", "period", "value", "department_code", "source"], "the KPI metrics")
    return read(con, "SELECT * FROM metrics.kpi_series ORDER BY kpi_id, period")


# ---- status ----------------------------------------------------------------------------------------------------

def evaluate_series(values: pd.DataFrame, registry: Registry) -> pd.DataFrame:
    """The status engine on a KPI series (kpi_id, period, value, department_code): its own output columns."""
    records = series.records_from_frame(values[["kpi_id", "period", "value", "department_code"]], "metrics.kpi_series")
    return status.evaluate(series.prepare(records, registry))


def status_table(evaluated: pd.DataFrame, values: pd.DataFrame, registry: Registry,
                 kpi_caveats: dict[str, str] | None = None) -> pd.DataFrame:
    out = caveats.add_caveats(evaluated, kpi_caveats or {}).rename(columns={"name": "kpi_name"}).merge(values[["kpi_id", "period", "source"]],
                                                                on=["kpi_id", "period"], how="left")
    out["unit"] = out["kpi_id"].map(lambda k: registry.kpis[k].unit if k in registry.kpis else None)
    out["period_month"] = out["period"].map(lambda p: parse_period(p).start)
    out["met"] = out["met"].astype(object).where(out["met"].notna(), None)
    return out[STATUS_TABLE_COLUMNS]


def current_caveats(registry: Registry, held_back: dict[str, list[str]] | None = None) -> dict[str, str]:
    """{kpi_id: caveat} from the files held back at landing (``caveats.held_back_files`` unless given)."""
    if held_back is None:
        try:
            held_back = caveats.held_back_files()
        except (FileNotFoundError, OSError, ValueError):
            held_back = {}  # no drop folders or inventory here: nothing known to be held back
    return caveats.kpi_caveats(registry, held_back)


def write_kpi_status(con: duckdb.DuckDBPyConnection, registry: Registry,
                     held_back: dict[str, list[str]] | None = None) -> pd.DataFrame:
    values = read_series(con)
    table = status_table(evaluate_series(values, registry), values, registry, current_caveats(registry, held_back))
    _write(con, "kpi_status", table, {**_DATES, "met": "BOOLEAN", "critical": "BOOLEAN", "pop_flag": "BOOLEAN",
                                      "fiscal_year": "INTEGER", "gap_periods": "INTEGER"})
    return table


def kpis_without_recent_values(table: pd.DataFrame, registry: Registry, as_of: dt.date, months: int = 3) -> list[str]:
    """Registry KPIs with no value in the ``months`` months up to the one holding ``as_of`` (a feed or a
    department's submissions stopped)."""
    last = parse_period(f"{as_of.year:04d}-{as_of.month:02d}").ordinal
    recent = table[table["value"].notna() & table["period"].map(lambda p: last - months < parse_period(p).ordinal <= last)]
    return sorted(set(registry.kpis) - set(recent["kpi_id"]))


def _in_order(frame: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    """Rows sorted by text columns here rather than by ORDER BY: PostgreSQL orders text by the database's collation,
    DuckDB (and Python) by code point."""
    return frame.sort_values(columns, kind="stable").reset_index(drop=True)


def read_status(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """metrics.kpi_status in the status engine's own shape (``name`` for the KPI's name)."""
    require(con, "metrics.kpi_status", STATUS_TABLE_COLUMNS, "the KPI metrics")
    frame = _in_order(read(con, "SELECT * FROM metrics.kpi_status"), ["kpi_id", "period"])
    frame = frame.rename(columns={"kpi_name": "name"})
    # nullable columns back to plain Python values (the engine tests `is None`)
    for column in ("met", "previous_period", "change_direction", "department_code", "target_basis"):
        frame[column] = frame[column].astype(object).where(frame[column].notna(), None)
    return frame


# ---- flags -----------------------------------------------------------------------------------------------------

def flag_actions_path() -> Path:
    """The office's action CSV: ``$CITYSTAT_FLAG_ACTIONS``, default ``<warehouse>/flag_actions.csv``."""
    value = os.environ.get(FLAG_ACTIONS_ENV)
    return Path(value).expanduser() if value else warehouse_dir() / "flag_actions.csv"


@dataclass
class FlagsResult:
    sync: flags.SyncResult
    actions_csv: Path
    imported: int = 0
    already_logged: int = 0
    csv_created: bool = False
    csv_problems: list[Problem] = field(default_factory=list)
    workbench: flags.WorkbenchResult = field(default_factory=flags.WorkbenchResult)


def write_flags(con: duckdb.DuckDBPyConnection, actions_csv: Path | None = None,
                now: dt.datetime | None = None) -> FlagsResult:
    """Raise, refresh and auto-resolve flags from metrics.kpi_status, then import the office's action CSV.

    A missing CSV is created from the whole action log (the office's starting point); an existing one is only read,
    never rewritten. A CSV with a bad row is not imported at all (every problem is reported)."""
    path = Path(actions_csv) if actions_csv else flag_actions_path()
    try:
        as_of = data_as_of(con)
    except (ValueError, MissingMartError):
        as_of = None  # no as-of date: the end of the latest period evaluated
    result = FlagsResult(sync=flags.sync_flags(con, read_status(con), now=now, as_of=as_of), actions_csv=path)
    if has_table(con, WORKBENCH_ACTIONS):  # commitments, follow-ups, manual flags and dismissals from the workbench
        result.workbench = flags.import_workbench_actions(
            con, read(con, f"SELECT {', '.join(WORKBENCH_ACTION_COLUMNS)} FROM {WORKBENCH_ACTIONS}"), as_of, now)
    if path.exists():
        try:
            result.imported, result.already_logged = flags.import_actions(con, path)
        except ValidationError as error:
            result.csv_problems = error.problems
    else:
        flags.export_actions(con, path)
        result.csv_created = True
    comment_table(con, "metrics.flags", *FLAG_DOCS)
    comment_table(con, "metrics.flag_actions", *FLAG_ACTION_DOCS)
    return result


WORKBENCH_ACTION_COLUMNS = ["id", "flag_id", "kpi_id", "period", "department_code", "kind", "status", "owner", "action",
                            "due_date", "follow_up", "escalated_to", "reason", "actor", "acted_at"]
COMMENTARY_COLUMNS = ["kpi_id", "department_code", "period", "comment", "author", "written_at"]


def write_kpi_commentary(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """metrics.kpi_commentary: the latest line written in the workbench per KPI and month (empty without one)."""
    if has_table(con, WORKBENCH_COMMENTARY):
        columns = ", ".join(COMMENTARY_COLUMNS)
        table = _in_order(read(con, f"""
            SELECT {columns} FROM (
                SELECT {columns}, row_number() OVER (PARTITION BY kpi_id, period ORDER BY written_at DESC, id DESC) AS latest
                FROM {WORKBENCH_COMMENTARY}) ranked
            WHERE latest = 1"""), ["kpi_id", "period"])
    else:
        table = pd.DataFrame(columns=COMMENTARY_COLUMNS)
    _write(con, "kpi_commentary", table, {"written_at": "TIMESTAMP", **{c: "VARCHAR" for c in COMMENTARY_COLUMNS[:5]}})
    return table


def flag_counts(con: duckdb.DuckDBPyConnection) -> dict[str, int]:
    """Flags in all, those not resolved, and actions logged."""
    return {"flags": scalar(con, "SELECT count(*) FROM metrics.flags"),
            "unresolved": scalar(con, "SELECT count(*) FROM metrics.flags WHERE status <> 'resolved'"),
            "actions": scalar(con, "SELECT count(*) FROM metrics.flag_actions")}


# ---- goals -----------------------------------------------------------------------------------------------------

def read_goals(con: duckdb.DuckDBPyConnection) -> list[dict]:
    require(con, GOALS, goals.GOAL_COLUMNS, "metrics.goal_progress")
    frame = _in_order(read(con, f"SELECT {', '.join(goals.GOAL_COLUMNS)} FROM {GOALS}"), ["goal_id"])
    return goals.read_goals(frame, GOALS)


def goal_table(goal_rows: list[dict], values: pd.DataFrame, as_of: dt.date, registry: Registry,
               kpi_caveats: dict[str, str] | None = None) -> pd.DataFrame:
    paced = goals.pace_goals(goal_rows, values[["kpi_id", "period", "value"]], as_of, registry)
    if len(paced):
        paced = caveats.add_caveats(paced, kpi_caveats or {})
    return paced.reindex(columns=GOAL_TABLE_COLUMNS)


def write_goal_progress(con: duckdb.DuckDBPyConnection, registry: Registry, as_of: dt.date | None = None) -> pd.DataFrame:
    as_of = as_of or data_as_of(con)
    table = goal_table(read_goals(con), read_series(con), as_of, registry, current_caveats(registry))
    _write(con, "goal_progress", table, {"as_of": "DATE", "start_date": "DATE", "deadline": "DATE", "judged_on": "DATE",
                                         "final": "BOOLEAN", "change_from_baseline": "DOUBLE", "caveat": "VARCHAR",
                                         "projected_completion_date": "DATE", "progress": "DOUBLE",
                                         "current_value": "DOUBLE", "actual_pace_per_day": "DOUBLE",
                                         "pace_to_finish_per_day": "DOUBLE"})
    return table


def read_goal_progress(con: duckdb.DuckDBPyConnection) -> pd.DataFrame | None:
    if not has_table(con, "metrics.goal_progress"):
        return None
    frame = _in_order(read(con, "SELECT * FROM metrics.goal_progress"), ["goal_id"])
    return frame.astype(object).where(frame.notna(), None)


# ---- CityScore -------------------------------------------------------------------------------------------------

# The KPIs that can be measured per day, with the definitions of int_kpi_service_requests (kpi_values) at day grain:
# on time = closed by the SLA due time, over requests closed that day with a due time.
_DAILY_ON_TIME_SQL = f"""
WITH closed AS (
    SELECT department_code, service_code, closed_date, closed_on_time FROM {SERVICE_REQUESTS} WHERE closed_at IS NOT NULL
), by_kpi AS (
    SELECT department_code || '_on_time_pct' AS kpi_id, department_code, closed_date, closed_on_time FROM closed
    UNION ALL SELECT 'cs_on_time_pct', 'cs', closed_date, closed_on_time FROM closed
    UNION ALL SELECT CASE service_code WHEN 'POTHOLE' THEN 'pw_potholes_within_sla_pct' ELSE 'pw_streetlights_within_sla_pct' END,
                     'pw', closed_date, closed_on_time FROM closed WHERE service_code IN ('POTHOLE', 'STREETLIGHT')
)
SELECT kpi_id, department_code, closed_date AS period,
       CAST(sum(CASE WHEN closed_on_time THEN 1 ELSE 0 END) AS DOUBLE PRECISION) AS numerator,
       CAST(count(closed_on_time) AS DOUBLE PRECISION) AS denominator
FROM by_kpi WHERE closed_date IS NOT NULL
GROUP BY 1, 2, 3
"""


def read_daily_values(con: duckdb.DuckDBPyConnection, registry: Registry) -> pd.DataFrame:
    """Daily values of the registry KPIs measurable per day (see _DAILY_ON_TIME_SQL)."""
    require(con, SERVICE_REQUESTS, ["department_code", "service_code", "closed_at", "closed_date", "closed_on_time"],
            "metrics.cityscore (day and week)")
    frame = read(con, _DAILY_ON_TIME_SQL)  # SQL both engines speak: the day formatted, the share divided here
    frame["period"] = pd.to_datetime(frame["period"]).dt.strftime("%Y-%m-%d")
    frame["value"] = 100.0 * frame["numerator"] / frame["denominator"].where(frame["denominator"] != 0)
    frame = _in_order(frame, ["kpi_id", "period"])[["kpi_id", "department_code", "period", "numerator", "denominator", "value"]]
    return frame[frame["kpi_id"].isin(registry.kpis)].reset_index(drop=True)


def daily_scores(daily: pd.DataFrame, registry: Registry, as_of: dt.date | None = None) -> pd.DataFrame:
    """Score of each KPI and day against the period's registry target (status.cityscore), up to as_of."""
    if as_of is not None:
        daily = daily[daily["period"] <= as_of.isoformat()]
    prepared = series.prepare(series.records_from_frame(daily[["kpi_id", "period", "value", "department_code"]],
                                                        "daily KPI values"), registry)
    prepared["score"] = [status.cityscore(v, t, d) for v, t, d in
                         zip(prepared["value"].astype(object).where(prepared["value"].notna(), None),
                             prepared["target"].astype(object).where(prepared["target"].notna(), None),
                             prepared["desired_direction"])]
    return prepared[["kpi_id", "department_code", "period", "score"]].astype({"score": "float64"})


def cityscore_table(monthly_status: pd.DataFrame, daily: pd.DataFrame) -> pd.DataFrame:
    parts = []
    if len(daily):
        parts += [cityscore.rollup(daily, "day"), cityscore.rollup(daily, "week")]
    monthly = monthly_status[["kpi_id", "department_code", "period", "score"]]
    parts += [cityscore.rollup(monthly, "month"), cityscore.rollup(monthly, "quarter")]
    return pd.concat(parts, ignore_index=True)[cityscore.CITYSCORE_COLUMNS]


def write_cityscore(con: duckdb.DuckDBPyConnection, registry: Registry, as_of: dt.date | None = None) -> pd.DataFrame:
    as_of = as_of or data_as_of(con)
    table = cityscore_table(read_status(con), daily_scores(read_daily_values(con, registry), registry, as_of))
    _write(con, "cityscore", table, {"period_start": "DATE", "score": "DOUBLE", "metrics_scored": "INTEGER"})
    return table


# ---- memo ------------------------------------------------------------------------------------------------------

def memo_dir() -> Path:
    return warehouse_dir() / "memos"


def briefing_dir() -> Path:
    """Where the stat-meeting briefings go: <warehouse>/briefings/<month>/ (citystat.kpi.briefing)."""
    return warehouse_dir() / "briefings"


def write_memo(con: duckdb.DuckDBPyConnection, month: str | None = None, out_dir: Path | None = None,
               top_movers: int = 5, extra_sections: list[str] | None = None) -> tuple[memo.Memo, Path, Path]:
    """The month's memo (default: the latest month closed on the as-of date) as Markdown and HTML files."""
    month = month or memo_month_for(data_as_of(con))
    flag_table = flags.list_flags(con, include_resolved=True) if has_table(con, "metrics.flags") else None
    commentary = read(con, "SELECT * FROM metrics.kpi_commentary") if has_table(con, "metrics.kpi_commentary") else None
    result = memo.build_memo(month, read_status(con), flag_table, read_goal_progress(con), top_movers=top_movers,
                             extra_sections=extra_sections or (), commentary=commentary)
    md_path, html_path = result.write(out_dir or memo_dir())
    return result, md_path, html_path
