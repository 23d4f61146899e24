"""Paving contractors' weekly reports: street segments resurfaced under the season's results-driven contracts.

One consolidated XLSX per report week (``drops/paving/paving_weekly_YYYY-MM-DD.xlsx``, date = the
Friday the week ends on), sheet ``report``. A segment is listed every week from the week its work
is scheduled to start (status ``scheduled`` until work begins) to the week it completes; the latest
row wins. A season's segments and schedule are a pure function of (seed, scale, contract), so
``advance`` writes the new weeks exactly as a longer ``generate`` would have.

The underperforming contractor (reference.UNDERPERFORMING_VENDOR) starts later and slips more as
the season goes on, lifts pavement condition less, has more parking/environmental incidents and
more rework, whichever region it holds that season.
"""
from __future__ import annotations

import datetime as dt

import numpy as np

from demo_city.core import GenContext
from demo_city.periods import fridays
from demo_city.reference import UNDERPERFORMING_VENDOR
from demo_city.systems import procurement
from demo_city.workbook import write_xlsx

SYSTEM = "pw_paving"
DATASET = f"{SYSTEM}.paving_reports"
SHEET = "report"
HEADER = [
    "report_week", "contract_id", "vendor_id", "segment_id", "street_name", "from_street", "to_street",
    "length_miles", "scheduled_start", "scheduled_end", "actual_start", "actual_end", "status",
    "pci_before", "pci_after", "parking_incidents", "environmental_incidents", "rework_required",
]
STREETS = [
    "Main St", "Oak Ave", "Maple Ave", "Pine St", "Cedar Rd", "Elm St", "Washington Blvd", "Lincoln Ave",
    "Jefferson St", "Riverside Dr", "Park Ave", "Highland Ave", "Church St", "Mill Rd", "Spring St",
    "Market St", "Lake Dr", "Hill St", "Forest Ave", "Union St", "Broad St", "Chestnut St", "Walnut St",
    "Franklin Ave", "Grove St", "College Ave", "Sunset Blvd", "Harbor Rd", "Bridge St", "Meadow Ln",
]
CROSS_STREETS = ["1st St", "2nd St", "3rd St", "4th St", "5th St", "6th St", "7th St", "8th St", "9th St",
                 "10th St", "11th St", "12th St", "Ash St", "Birch St", "Poplar St", "Willow St"]

# Performance profile: (start delay days [low, high), slip over the season, extra days of work [low, high),
# PCI after [low, high), parking incidents mean, environmental incidents mean, rework probability)
PROFILE_GOOD = ((-1, 3), 0, (-1, 2), (86, 99), 0.12, 0.04, 0.04)
PROFILE_UNDERPERFORMING = ((3, 10), 14, (1, 6), (72, 90), 1.0, 0.45, 0.22)
CLOSED_BEFORE_OPENED_RATE = 0.03  # of completed segments, in their completion row
ORPHAN_CONTRACT_RATE = 0.01  # of report rows


def season_end(year: int) -> dt.date:
    """Last report Friday of the season (work is reported through the end of November)."""
    return list(fridays(dt.date(year, 11, 1), dt.date(year, 11, 30)))[-1]


def report_weeks(year: int) -> list[dt.date]:
    return list(fridays(dt.date(year, 4, 1), season_end(year)))


def contract_segments(ctx: GenContext, contract: dict) -> list[dict]:
    """The planned street segments of one contract with their (true) schedule and outcomes."""
    rng = ctx.rng("paving", contract["contract_id"])
    year, n = contract["season_year"], contract["planned_segments"]
    profile = PROFILE_UNDERPERFORMING if contract["vendor_id"] == UNDERPERFORMING_VENDOR else PROFILE_GOOD
    (d_lo, d_hi), slip, (x_lo, x_hi), (p_lo, p_hi), parking_mean, env_mean, rework_p = profile
    lengths = rng.uniform(0.12, 0.40, n)
    lengths = np.round(lengths * contract["planned_miles"] / lengths.sum(), 2)
    first_start = dt.date(year, 4, 7)
    offsets = np.sort(rng.integers(0, 196, n))  # scheduled starts spread from early April to late October
    planned_days = rng.integers(3, 10, n)
    delay = rng.integers(d_lo, d_hi, n) + np.floor(np.arange(n) / n * slip).astype(int)
    worked_days = np.maximum(1, planned_days + rng.integers(x_lo, x_hi, n))
    pci_before = rng.integers(30, 66, n)
    pci_after = rng.integers(p_lo, p_hi, n)
    parking = rng.poisson(parking_mean, n)
    environmental = rng.poisson(env_mean, n)
    # rework spread evenly through the season (random phase), so every stretch of it shows the contractor's rate
    rework = np.diff(np.floor((np.arange(n + 1) + rng.random()) * rework_p)) > 0
    streets = rng.integers(0, len(STREETS), n)
    cross = np.array([rng.choice(len(CROSS_STREETS), 2, replace=False) for _ in range(n)])
    end_of_season = season_end(year)
    segments = []
    prefix = f"SEG-{year % 100:02d}{contract['contract_id'][-1]}"
    for i in range(n):
        sched_start = first_start + dt.timedelta(days=int(offsets[i]))
        sched_end = sched_start + dt.timedelta(days=int(planned_days[i]) - 1)
        start = max(dt.date(year, 4, 1), sched_start + dt.timedelta(days=int(delay[i])))
        end = start + dt.timedelta(days=int(worked_days[i]) - 1)
        if start > end_of_season:
            start = end = None  # not reached this season
        elif end > end_of_season:
            end = None  # still open when the season closed
        incident_days = []
        if start:
            span = ((end or end_of_season) - start).days + 1
            incident_days = [("parking", start + dt.timedelta(days=int(d))) for d in rng.integers(0, span, parking[i])]
            incident_days += [("environmental", start + dt.timedelta(days=int(d))) for d in rng.integers(0, span, environmental[i])]
        segments.append({
            "contract_id": contract["contract_id"],
            "vendor_id": contract["vendor_id"],
            "segment_id": f"{prefix}{i + 1:03d}",
            "street_name": STREETS[streets[i]],
            "from_street": CROSS_STREETS[cross[i][0]],
            "to_street": CROSS_STREETS[cross[i][1]],
            "length_miles": float(lengths[i]),
            "scheduled_start": sched_start,
            "scheduled_end": sched_end,
            "actual_start": start,
            "actual_end": end,
            "pci_before": int(pci_before[i]),
            "pci_after": int(pci_after[i]),
            "incidents": incident_days,
            "rework": bool(rework[i]),
        })
    return segments


def _row(segment: dict, friday: dt.date) -> dict:
    """The segment as reported in the week ending ``friday``."""
    start = segment["actual_start"] if segment["actual_start"] and segment["actual_start"] <= friday else None
    end = segment["actual_end"] if segment["actual_end"] and segment["actual_end"] <= friday else None
    status = "completed" if end else "in_progress" if start else "scheduled"
    counts = {"parking": 0, "environmental": 0}
    for kind, day in segment["incidents"]:
        counts[kind] += day <= friday
    return {
        "report_week": friday,
        **{k: segment[k] for k in ("contract_id", "vendor_id", "segment_id", "street_name", "from_street", "to_street",
                                   "length_miles", "scheduled_start", "scheduled_end")},
        "actual_start": start,
        "actual_end": end,
        "status": status,
        "pci_before": segment["pci_before"],
        "pci_after": segment["pci_after"] if end else None,
        "parking_incidents": counts["parking"],
        "environmental_incidents": counts["environmental"],
        "rework_required": "Y" if end and segment["rework"] else "N",
    }


def _listed(segment: dict, friday: dt.date) -> bool:
    visible_from = min(segment["scheduled_start"], segment["actual_start"] or segment["scheduled_start"])
    done = segment["actual_end"]
    return visible_from <= friday and (done is None or done > friday - dt.timedelta(days=7))


def record_id(row: dict) -> str:
    return f"{row['segment_id']}@{row['report_week'].isoformat()}"


def season_reports(ctx: GenContext, year: int) -> dict[dt.date, list[dict]]:
    """Every weekly report of a season (also weeks after as_of; callers write only the due ones),
    with the season's injected defects applied. Returns {friday: rows} and records nothing."""
    segments = [s for c in procurement.paving_contracts(ctx, year) for s in contract_segments(ctx, c)]
    weeks = {f: [_row(s, f) for s in segments if _listed(s, f)] for f in report_weeks(year)}
    weeks = {f: rows for f, rows in weeks.items() if rows}
    if not ctx.clean:
        _inject_defects(ctx, year, weeks)
    return weeks


def _inject_defects(ctx: GenContext, year: int, weeks: dict[dt.date, list[dict]]) -> None:
    rng = ctx.rng("paving", "defects", year)
    rows = [r for f in sorted(weeks) for r in weeks[f]]
    completion_rows = [r for r in rows if r["status"] == "completed"]
    k = max(1, round(CLOSED_BEFORE_OPENED_RATE * len(completion_rows)))
    for i in rng.choice(len(completion_rows), min(k, len(completion_rows)), replace=False):
        row = completion_rows[i]
        row["actual_end"] = row["actual_start"] - dt.timedelta(days=int(rng.integers(1, 6)))
        row["_defect"] = "closed_before_opened"
    candidates = [r for r in rows if "_defect" not in r]
    k = max(1, round(ORPHAN_CONTRACT_RATE * len(rows)))
    for i in rng.choice(len(candidates), min(k, len(candidates)), replace=False):
        row = candidates[i]
        # a mistyped last digit: paving contracts are CTR-YY01..03 and others CTR-YY10+, so CTR-YY07..09 never exist
        row["contract_id"] = row["contract_id"][:-1] + str(int(row["contract_id"][-1]) + 6)
        row["_defect"] = "orphan_key"


DEFECT_DESCRIPTIONS = {
    "closed_before_opened": "paving report row whose actual_end is before its actual_start",
    "orphan_key": "paving report row whose contract_id is not a procurement contract",
}


def _write_weeks(ctx: GenContext, first: dt.date, last: dt.date) -> None:
    for year in procurement.paving_seasons(ctx):
        if not any(first <= f <= last for f in report_weeks(year)):
            continue
        for friday, rows in sorted(season_reports(ctx, year).items()):
            if not first <= friday <= last or friday < ctx.start:
                continue
            path = ctx.path("drops", "paving", f"paving_weekly_{friday.isoformat()}.xlsx")
            n = write_xlsx(path, SHEET, HEADER, ([r[c] for c in HEADER] for r in rows),
                           stamp=dt.datetime.combine(friday, dt.time(17, 0)))
            ctx.count(DATASET, n)
            for defect_class, description in DEFECT_DESCRIPTIONS.items():
                ids = [record_id(r) for r in rows if r.get("_defect") == defect_class]
                if ids:
                    ctx.defects.add(defect_class, DATASET, ids, description)


def generate(ctx: GenContext) -> None:
    _write_weeks(ctx, ctx.start, ctx.as_of)


def advance(ctx: GenContext, first: dt.date, last: dt.date) -> None:
    _write_weeks(ctx, first, last)
