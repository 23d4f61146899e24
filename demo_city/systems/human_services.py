"""Human Services centres' monthly workbook: enrollment, capacity, outcome and cost per senior/child-care site.

Kept by hand in a spreadsheet; one XLSX per closed month (``drops/human_services/centres_YYYY-MM.xlsx``,
sheet ``centres``), one row per site. ``monthly_cost`` is the site's share of its programme's ledger
spending that month (sites absorb SITE_COST_SHARE of the programme, by capacity), so cost per outcome
reconciles with finance. The failing senior centre (reference.FAILING_SITE) misses its outcome target
in most months while its neighbour in the same service area (reference.STRONG_PEER_SITE) meets it with
room to take more participants — the Jackson, MS merger story.
"""
from __future__ import annotations

import datetime as dt

from demo_city.core import GenContext
from demo_city.periods import month_end, months_closing
from demo_city.reference import FAILING_SITE, SITES, STRONG_PEER_SITE
from demo_city.systems import finance
from demo_city.workbook import write_xlsx

SYSTEM = "hs_centres"
DATASET = f"{SYSTEM}.centre_monthly"
SHEET = "centres"
HEADER = ["month", "site_id", "site_name", "program_code", "service_area", "capacity", "enrollment",
          "outcome_measure", "outcome_target", "outcome_value", "monthly_cost"]
# programme -> (outcome measure, target %, capacity range)
OUTCOMES = {
    "hs_senior_centres": ("pct_participants_wellbeing_improved", 70.0, (110, 180)),
    "hs_child_care": ("pct_children_school_ready", 80.0, (60, 110)),
}
SITE_COST_SHARE = 0.85  # of the programme's spending that lands on the sites (the rest is administration)
FAILING_MISS_RATE = 0.85  # months in which the failing site misses its target
DEFECT_RATES = {"negative_amount": 0.02, "invalid_code": 0.015}
INVALID_CODES = ["hs_senior", "HS-CC", "senior centres", "childcare"]
DEFECT_DESCRIPTIONS = {
    "negative_amount": "centre monthly_cost below zero (sign keyed wrong)",
    "invalid_code": "centre program_code not in the programme list",
}


def site_capacity(ctx: GenContext) -> dict[str, int]:
    rng = ctx.rng("human_services", "capacity")
    return {site: int(rng.integers(*OUTCOMES[program][2])) for site, _, program, _ in SITES}


def month_rows(ctx: GenContext, year: int, month: int) -> tuple[list[dict], dict[str, list[str]]]:
    """The workbook rows of one month and {defect_class: record ids} injected into them."""
    rng = ctx.rng("human_services", year, month)
    capacity = site_capacity(ctx)
    weight = {}
    for site, _, program, _ in SITES:
        weight[site] = capacity[site] / sum(capacity[s] for s, _, p, _ in SITES if p == program)
    period = f"{year}-{month:02d}"
    rows, defects = [], {}
    for site, name, program, area in SITES:
        measure, target, _ = OUTCOMES[program]
        fill, outcome_draw, miss, noise = rng.uniform(0.80, 0.97), rng.uniform(0, 6), rng.random(), rng.uniform(-4, 4)
        if site == STRONG_PEER_SITE:
            fill, outcome = rng.uniform(0.55, 0.68), target + rng.uniform(2, 10)
        elif site == FAILING_SITE:
            fill = rng.uniform(0.82, 0.95)
            outcome = target - rng.uniform(8, 22) if miss < FAILING_MISS_RATE else target + rng.uniform(0, 3)
        else:
            outcome = target + outcome_draw + noise - 1.0
        cost = finance.programme_month_spend(ctx, program, year, month) * SITE_COST_SHARE * weight[site]
        cost *= rng.uniform(0.97, 1.03)  # hand-kept sheets round and estimate
        rows.append({
            "month": period,
            "site_id": site,
            "site_name": name,
            "program_code": program,
            "service_area": area,
            "capacity": capacity[site],
            "enrollment": int(round(capacity[site] * fill)),
            "outcome_measure": measure,
            "outcome_target": target,
            "outcome_value": round(float(min(outcome, 99.0)), 1),
            "monthly_cost": round(float(cost), -1),
        })
    if not ctx.clean:
        draws = rng.random(len(rows))
        for row, draw in zip(rows, draws):
            record = f"{row['site_id']}@{period}"
            if draw < DEFECT_RATES["negative_amount"]:
                row["monthly_cost"] = -row["monthly_cost"]
                defects.setdefault("negative_amount", []).append(record)
            elif draw < DEFECT_RATES["negative_amount"] + DEFECT_RATES["invalid_code"]:
                row["program_code"] = str(rng.choice(INVALID_CODES))
                defects.setdefault("invalid_code", []).append(record)
    return rows, defects


def _write(ctx: GenContext, first: dt.date, last: dt.date) -> None:
    for year, month in months_closing(first, last, ctx.start):
        rows, defects = month_rows(ctx, year, month)
        path = ctx.path("drops", "human_services", f"centres_{year}-{month:02d}.xlsx")
        stamp = dt.datetime.combine(month_end(year, month), dt.time(16, 30))
        ctx.count(DATASET, write_xlsx(path, SHEET, HEADER, ([r[c] for c in HEADER] for r in rows), stamp))
        for defect_class, ids in defects.items():
            ctx.defects.add(defect_class, DATASET, ids, DEFECT_DESCRIPTIONS[defect_class])


def generate(ctx: GenContext) -> None:
    _write(ctx, ctx.start, ctx.as_of)


def advance(ctx: GenContext, first: dt.date, last: dt.date) -> None:
    _write(ctx, first, last)
