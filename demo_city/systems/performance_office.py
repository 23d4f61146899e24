"""Performance office drops: KPI values submitted on the CSV template by departments with no feed, and the
citywide strategic goals register.

``kpi_submissions_YYYY-MM.csv`` holds the values for period YYYY-MM; departments submit by the 5th of the
next month (some late, a few never), and the office publishes the compiled file on PUBLISH_DAY, so the file
exists once that day is <= as_of. ``strategic_goals.csv`` is written once. One KPI carries a planted swing (a month
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

# The submitted KPIs of the KPI registry (dbt_project/seeds/kpi_registry.csv, source "submitted").
# kpi_id -> (department, kind, level, seasonal amplitude, yearly trend, denominator range). Kinds: "count" (value
# only), "pct" (100 * numerator / denominator), "mean" (numerator / denominator, e.g. days per hire), "uptime"
# (minutes available / minutes in the month, with an occasional outage).
KPIS = {
    "lib_visits": ("lib", "count", 120_000.0, 0.12, 0.02, None),
    "lib_patron_satisfaction_pct": ("lib", "pct", 88.0, 0.01, 0.01, (300, 600)),
    "parks_acres_maintained_pct": ("parks", "pct", 86.0, 0.04, 0.02, (2400, 2400)),
    "hr_days_to_hire": ("hr", "mean", 64.0, 0.05, -0.06, (25, 70)),
    "it_system_uptime_pct": ("it", "uptime", 99.9, 0.0, 0.0, None),
    "it_tickets_within_sla_pct": ("it", "pct", 86.0, 0.02, 0.02, (1500, 2500)),
    "law_contract_reviews_on_time_pct": ("law", "pct", 82.0, 0.03, 0.03, (40, 90)),
    "clerk_records_requests_on_time_pct": ("clerk", "pct", 88.0, 0.02, 0.03, (180, 420)),
    "plan_permits_within_sla_pct": ("plan", "pct", 74.0, 0.04, 0.05, (150, 300)),
    "fleet_availability_pct": ("fleet", "pct", 87.0, 0.02, 0.0, (1150, 1150)),
}
SUBMISSION_DUE_DAY = 5  # of the month after the period; LATE_SHARE arrive after it (by PUBLISH_DAY - 1)
LATE_SHARE = 0.12
MISSING_SHARE = 0.02  # KPI-months never submitted (the planted swing KPI is always submitted)
OUTAGE_SHARE = 0.08  # months with an IT outage of several hours
# The planted swing: library visits drop ~35% in the 20th month of the history (main branch closed)
SWING_KPI = "lib_visits"
SWING_MONTH_INDEX = 19
SWING_FACTOR = 0.65
SWING_NOTE = "Main branch closed for HVAC repairs most of the month"

STRATEGIC_GOALS = [
    # (goal_id, title, kpi_id, department, baseline, target, unit, start offset years, duration days)
    ("G-POTHOLE-80", "Repair 80% of reported potholes within their service level", "pw_potholes_within_sla_pct", "pw",
     57.0, 80.0, "percent", 0, 3 * 365),
    ("G-FIRE-7MIN", "Arrive at 90% of fire incidents within 7 minutes of the alarm", "fire_alarm_to_arrival_p90_sec",
     "fire", 480.0, 420.0, "seconds", 0, 3 * 365),
    ("G-311-ON-TIME", "Close 85% of 311 service requests on time", "cs_on_time_pct", "cs",
     70.0, 85.0, "percent", 0, 3 * 365),
    ("G-LIBRARY-VISITS", "Welcome 130,000 library visits a month", "lib_visits", "lib",
     118_000.0, 130_000.0, "visits", 1, 2 * 365),
    ("G-SENIOR-OUTCOMES", "Senior centres meet their participant outcome target 90% of the time", "hs_senior_outcome_rate",
     "hs", 60.0, 90.0, "percent", 0, 3 * 365),
    ("G-PERMITS-SLA", "Review 85% of building permits within 30 days", "plan_permits_within_sla_pct", "plan",
     74.0, 85.0, "percent", 1, 2 * 365),
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
    for kpi_id, (dept, kind, level, seasonal, trend, denominators) in KPIS.items():
        base = level * (1 + trend) ** years_in * (1 + seasonal * summer) * rng.normal(1, 0.03)
        missing, late, day_draw, hour, minute = rng.random(), rng.random(), rng.random(), int(rng.integers(8, 18)), int(rng.integers(0, 60))
        denominator = int(rng.integers(denominators[0], denominators[1] + 1)) if denominators else None
        notes = ""
        if kpi_id == SWING_KPI and period == swing_period(ctx):
            base *= SWING_FACTOR
            notes = SWING_NOTE
        elif missing < MISSING_SHARE:
            continue
        numerator = ""
        if kind == "pct":
            numerator = min(denominator, round(denominator * min(base, 99.5) / 100))
            value = round(100 * numerator / denominator, 2)
        elif kind == "mean":
            numerator = round(base * denominator)
            value = round(numerator / denominator, 1)
        elif kind == "uptime":
            denominator = calendar.monthrange(year, month)[1] * 24 * 60
            down = rng.gamma(2.0, 20.0) + (rng.uniform(300, 900) if rng.random() < OUTAGE_SHARE else 0)
            numerator = denominator - round(down)
            value = round(100 * numerator / denominator, 3)
            notes = "Unplanned outage of core systems" if down > 300 else notes
        else:
            value = round(base)
        if late < LATE_SHARE:
            day = SUBMISSION_DUE_DAY + 1 + int(day_draw * (PUBLISH_DAY - SUBMISSION_DUE_DAY - 1))
        else:
            day = 1 + int(day_draw * SUBMISSION_DUE_DAY)
        submitted = dt.datetime(submit_year, submit_month, day, hour, minute)
        rows.append({"kpi_id": kpi_id, "department_code": dept, "period": period, "value": value,
                     "numerator": numerator, "denominator": "" if denominator is None else denominator,
                     "submitted_by": submitters[dept], "submitted_at": submitted.isoformat(sep=" "), "notes": notes})
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
