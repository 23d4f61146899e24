"""Performance office drops: KPI values submitted on the CSV template by departments with no feed, and the
citywide strategic goals register.

``kpi_submissions_YYYY-MM.csv`` holds the values for period YYYY-MM; departments submit during the first
days of the next month and the office publishes the compiled file on PUBLISH_DAY, so the file exists once
that day is <= as_of. ``strategic_goals.csv`` is written once. One KPI carries a planted swing (a month
that moves by more than 15% against the previous one, with a note saying why) for the flagging logic.
"""
from __future__ import annotations

import calendar
import csv
import datetime as dt

from demo_city import people
from demo_city.core import GenContext
from demo_city.periods import months_between, next_month
from demo_city.reference import VACANT_GOAL

SYSTEM = "perf_office"
DROPS = ("drops", "performance_office")
PUBLISH_DAY = 10  # of the month after the period
SUBMISSION_COLUMNS = ["kpi_id", "department_code", "period", "value", "numerator", "denominator",
                      "submitted_by", "submitted_at", "notes"]
GOAL_COLUMNS = ["goal_id", "title", "kpi_id", "department_code", "baseline", "target_value", "unit",
                "start_date", "deadline", "owner"]

# kpi_id -> (department, kind, level, seasonal amplitude, yearly trend); kind says how value relates to
# numerator/denominator: "per_capita" visits/population, "pct" 100*num/den, "mean" num/den, "count" value only
KPIS = {
    "lib_visits_per_capita": ("lib", "per_capita", 0.34, 0.12, 0.02),
    "parks_acres_maintained": ("parks", "count", 2150.0, 0.10, 0.01),
    "hr_days_to_hire": ("hr", "mean", 62.0, 0.05, -0.06),
    "it_system_uptime_pct": ("it", "pct", 99.5, 0.0, 0.0005),
    "law_cases_closed": ("law", "count", 140.0, 0.08, 0.03),
    "clerk_records_requests_on_time_pct": ("clerk", "pct", 84.0, 0.02, 0.03),
    "plan_permits_within_30_days_pct": ("plan", "pct", 71.0, 0.04, 0.05),
}
# The planted swing: library visits drop ~35% in the 20th month of the history (main branch closed)
SWING_KPI = "lib_visits_per_capita"
SWING_MONTH_INDEX = 19
SWING_FACTOR = 0.65
SWING_NOTE = "Main branch closed for HVAC repairs most of the month"

STRATEGIC_GOALS = [
    # (goal_id, title, kpi_id, department, baseline, target, unit, start offset years, duration days)
    ("G-POTHOLE-80", "Fix 80% of reported potholes within one business day", "pw_pothole_on_time_pct", "pw",
     57.0, 80.0, "percent", 0, 3 * 365),
    ("G-FIRE-RESPONSE", "Arrive at 90% of structure fires within 6 minutes 20 seconds", "fire_response_within_standard_pct",
     "fire", 82.0, 90.0, "percent", 0, 3 * 365),
    ("G-311-SLA", "Close 90% of 311 service requests within their service level", "cs_requests_closed_on_time_pct", "cs",
     70.0, 90.0, "percent", 0, 3 * 365),
    ("G-LIBRARY-VISITS", "Raise library visits to 0.40 per resident per month", "lib_visits_per_capita", "lib",
     0.34, 0.40, "visits per resident", 1, 2 * 365),
    ("G-SENIOR-WELLBEING", "70% of senior centre participants report improved wellbeing", "hs_senior_outcome_pct", "hs",
     64.0, 70.0, "percent", 0, 3 * 365),
    ("G-PERMITS-30", "Issue 85% of building permits within 30 days", "plan_permits_within_30_days_pct", "plan",
     71.0, 85.0, "percent", 1, 2 * 365),
]


def swing_period(ctx: GenContext) -> str:
    index = ctx.start.year * 12 + ctx.start.month - 1 + SWING_MONTH_INDEX
    return f"{index // 12}-{index % 12 + 1:02d}"


def _submitters(ctx: GenContext) -> dict[str, str]:
    rng = ctx.rng("performance_office", "submitters")
    depts = sorted({d for d, *_ in KPIS.values()})
    return {d: people.email(str(n)) for d, n in zip(depts, people.names(rng, len(depts)))}


def period_rows(ctx: GenContext, year: int, month: int) -> list[dict]:
    rng = ctx.rng("performance_office", year, month)
    submitters = _submitters(ctx)
    years_in = (dt.date(year, month, 1) - ctx.start).days / 365.25
    summer = [-0.8, -0.6, -0.2, 0.2, 0.6, 1.0, 1.0, 0.8, 0.3, -0.1, -0.5, -0.9][month - 1]  # Jan..Dec: summer high
    submit_year, submit_month = next_month(year, month)
    period = f"{year}-{month:02d}"
    rows = []
    for kpi_id, (dept, kind, level, seasonal, trend) in KPIS.items():
        base = level * (1 + trend) ** years_in * (1 + seasonal * summer) * rng.normal(1, 0.03)
        notes = ""
        if kpi_id == SWING_KPI and period == swing_period(ctx):
            base *= SWING_FACTOR
            notes = SWING_NOTE
        numerator = denominator = ""
        if kind == "per_capita":
            visits = round(base * ctx.population)
            numerator, denominator, value = visits, ctx.population, round(visits / ctx.population, 4)
        elif kind == "pct":
            denominator = {"it": calendar.monthrange(year, month)[1] * 24 * 60}.get(dept) or int(rng.integers(180, 420))
            numerator = min(denominator, round(denominator * min(base, 100.0) / 100))
            value = round(100 * numerator / denominator, 2)
        elif kind == "mean":
            hires = int(rng.integers(25, 70))
            numerator, denominator, value = round(base * hires), hires, round(round(base * hires) / hires, 1)
        else:
            value = round(base)
        submitted = dt.datetime(submit_year, submit_month, int(rng.integers(1, PUBLISH_DAY)),
                                int(rng.integers(8, 18)), int(rng.integers(0, 60)))
        rows.append({"kpi_id": kpi_id, "department_code": dept, "period": period, "value": value,
                     "numerator": numerator, "denominator": denominator, "submitted_by": submitters[dept],
                     "submitted_at": submitted.isoformat(sep=" "), "notes": notes})
    return rows


def publish_date(year: int, month: int) -> dt.date:
    y, m = next_month(year, month)
    return dt.date(y, m, PUBLISH_DAY)


def goal_rows(ctx: GenContext) -> list[dict]:
    owners = people.names(ctx.rng("performance_office", "goal_owners"), len(STRATEGIC_GOALS) + 1)
    start = dt.date.fromisoformat(VACANT_GOAL["start_date"])
    rows = [{
        "goal_id": VACANT_GOAL["goal_id"],
        "title": f"Address {VACANT_GOAL['target_value']:,} vacant and abandoned properties in {VACANT_GOAL['days']:,} days",
        "kpi_id": "ce_properties_addressed", "department_code": "ce", "baseline": 0,
        "target_value": VACANT_GOAL["target_value"], "unit": "properties", "start_date": start.isoformat(),
        "deadline": (start + dt.timedelta(days=VACANT_GOAL["days"])).isoformat(), "owner": str(owners[0]),
    }]
    fy_start = dt.date(ctx.start.year, 7, 1)
    for (goal_id, title, kpi_id, dept, baseline, target, unit, offset, days), owner in zip(STRATEGIC_GOALS, owners[1:]):
        begins = dt.date(fy_start.year + offset, 7, 1)
        rows.append({"goal_id": goal_id, "title": title, "kpi_id": kpi_id, "department_code": dept, "baseline": baseline,
                     "target_value": target, "unit": unit, "start_date": begins.isoformat(),
                     "deadline": (begins + dt.timedelta(days=days)).isoformat(), "owner": str(owner)})
    return rows


def _write_csv(path, columns: list[str], rows: list[dict]) -> None:
    with open(path, "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=columns, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)


def _write_submissions(ctx: GenContext, first: dt.date, last: dt.date) -> None:
    for year, month in months_between(ctx.start, last):
        if first <= publish_date(year, month) <= last:
            rows = period_rows(ctx, year, month)
            _write_csv(ctx.path(*DROPS, f"kpi_submissions_{year}-{month:02d}.csv"), SUBMISSION_COLUMNS, rows)
            ctx.count(f"{SYSTEM}.kpi_submissions", len(rows))


def generate(ctx: GenContext) -> None:
    goals = goal_rows(ctx)
    _write_csv(ctx.path(*DROPS, "strategic_goals.csv"), GOAL_COLUMNS, goals)
    ctx.count(f"{SYSTEM}.strategic_goals", len(goals))
    _write_submissions(ctx, ctx.start, ctx.as_of)


def advance(ctx: GenContext, first: dt.date, last: dt.date) -> None:
    _write_submissions(ctx, first, last)
