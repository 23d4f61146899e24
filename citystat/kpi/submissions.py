"""Validation of the KPI values departments submit on the performance office's CSV template.

Staging (``stg_perf_office__kpi_submissions``) has already typed the cells and quarantined rows that break the
inventory's field rules. What only the KPI registry can tell is checked here, row by row, and every problem names
the file, line and field, e.g. ``kpi_submissions_2025-03.csv line 4: kpi_id: 'pw_on_time_pct' is computed by
CityStat (registry source computed); a submitted value is not accepted for it``:

* the KPI is in the registry and its ``source`` is ``submitted`` (a computed KPI never takes a submitted value,
  so computed and submitted values cannot mix);
* ``department_code`` is the KPI's department;
* the period is a month (``YYYY-MM``), one row per KPI and month, and not after the as-of date;
* ``value`` is there; a ``pct`` value lies in 0-100 and values in other units that cannot be negative are not;
* when both ``numerator`` and ``denominator`` are given, the denominator is positive and the value agrees with
  them (``100 x numerator / denominator`` for ``pct``, else ``numerator / denominator``) within rounding: at most
  0.05 (a value rounded to one decimal) or 0.1% of it, whichever is larger.

Rows with a problem are left out of the KPI series and listed (``metrics.kpi_submission_problems``); the others
are kept, labelled ``source = 'submitted'``.
"""
from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass

import pandas as pd

from citystat.kpi.periods import parse_period
from citystat.kpi.problems import Problem
from citystat.kpi.registry import Registry

NON_NEGATIVE_UNITS = frozenset({"pct", "count", "ratio", "days", "hours", "seconds", "usd", "miles", "acres"})
ABS_TOLERANCE = 0.05
REL_TOLERANCE = 0.001
SUBMISSION_COLUMNS = ["kpi_id", "department_code", "period", "value", "numerator", "denominator", "submitted_at",
                      "notes", "source_file", "source_line"]


@dataclass(frozen=True)
class CheckedSubmissions:
    accepted: pd.DataFrame  # SUBMISSION_COLUMNS, the rows without a problem
    problems: list[Problem]
    rejected_rows: int


def _blank(x) -> bool:
    return x is None or x is pd.NA or (isinstance(x, float) and math.isnan(x))


def location(source_file, source_line) -> str:
    """'kpi_submissions_2025-03.csv line 4' (the file's own line: the header is line 1)."""
    name = "perf_office.kpi_submissions" if _blank(source_file) else str(source_file)
    return name if _blank(source_line) else f"{name} line {int(source_line)}"


def _consistent(value: float, expected: float) -> bool:
    return abs(value - expected) <= max(ABS_TOLERANCE, REL_TOLERANCE * abs(expected))


def _check_row(row: dict, registry: Registry, as_of: dt.date | None, at: str) -> list[Problem]:
    problems: list[Problem] = []
    kpi_id = row["kpi_id"]
    kpi = registry.kpis.get(kpi_id) if not _blank(kpi_id) else None
    if _blank(kpi_id):
        problems.append(Problem(at, "kpi_id", "is required"))
    elif kpi is None:
        problems.append(Problem(at, "kpi_id", f"{kpi_id!r} is not a KPI in the registry"))
    elif kpi.source != "submitted":
        problems.append(Problem(at, "kpi_id", f"{kpi_id!r} is computed by CityStat (registry source {kpi.source}); "
                                              "a submitted value is not accepted for it"))
        kpi = None
    if kpi is not None and row["department_code"] != kpi.department_code:
        problems.append(Problem(at, "department_code", f"{row['department_code']!r} is not the department of "
                                                       f"{kpi_id} ({kpi.department_code})"))
    period = None
    if _blank(row["period"]):
        problems.append(Problem(at, "period", "is required (YYYY-MM)"))
    else:
        try:
            period = parse_period(row["period"])
        except ValueError as error:
            problems.append(Problem(at, "period", str(error)))
        if period is not None and period.grain != "month":
            problems.append(Problem(at, "period", f"{row['period']!r} is not a month (YYYY-MM)"))
        elif period is not None and as_of is not None and period.start > as_of:
            problems.append(Problem(at, "period", f"{period.label} is after the as-of date {as_of}"))
    value, numerator, denominator = row["value"], row["numerator"], row["denominator"]
    if _blank(value):
        problems.append(Problem(at, "value", "is required"))
    elif kpi is not None:
        if kpi.unit == "pct" and not 0 <= value <= 100:
            problems.append(Problem(at, "value", f"{value:g} is not a percentage 0-100"))
        elif kpi.unit in NON_NEGATIVE_UNITS and value < 0:
            problems.append(Problem(at, "value", f"{value:g} is negative ({kpi.unit} cannot be)"))
    if not _blank(numerator) and not _blank(denominator):
        if denominator <= 0:
            problems.append(Problem(at, "denominator", f"{denominator:g} must be > 0"))
        elif not _blank(value) and kpi is not None:
            expected = (100.0 if kpi.unit == "pct" else 1.0) * numerator / denominator
            if not _consistent(value, expected):
                formula = "100 x numerator / denominator" if kpi.unit == "pct" else "numerator / denominator"
                problems.append(Problem(at, "value", f"{value:g} does not match {formula} = {expected:.4g} "
                                                     f"({numerator:g} / {denominator:g})"))
    return problems


def check_submissions(frame: pd.DataFrame, registry: Registry, as_of: dt.date | None = None) -> CheckedSubmissions:
    """Split submitted rows (``SUBMISSION_COLUMNS``; ``period`` as YYYY-MM text) into accepted rows and problems."""
    missing = [c for c in SUBMISSION_COLUMNS if c not in frame.columns]
    if missing:
        raise ValueError(f"KPI submissions: missing column(s) {', '.join(missing)}")
    problems: list[Problem] = []
    keep: list[bool] = []
    seen: dict[tuple[str, str], str] = {}
    for row in frame[SUBMISSION_COLUMNS].to_dict("records"):
        at = location(row["source_file"], row["source_line"])
        found = _check_row(row, registry, as_of, at)
        key = (row["kpi_id"], row["period"])
        if not found and key in seen:
            found = [Problem(at, "period", f"{key[0]} {key[1]} is submitted twice (also {seen[key]})")]
        if not found:
            seen[key] = at
        problems += found
        keep.append(not found)
    mask = pd.Series(keep, index=frame.index, dtype=bool)
    accepted = frame.loc[mask, SUBMISSION_COLUMNS].reset_index(drop=True)
    return CheckedSubmissions(accepted=accepted, problems=problems, rejected_rows=int((~mask).sum()))
