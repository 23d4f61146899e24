"""Finance ERP exports: budgets, general-ledger expenditures (the largest dataset) and position snapshots.

Drops in ``drops/finance/`` (docs/contracts.md):
- ``budget_FY<yyyy>.csv`` — written once when the fiscal year opens (July 1): adopted and revised amounts
  per department / programme / fund / account, grown from reference.ANNUAL_BUDGET by ~3% a year.
- ``gl_expenditures_YYYY-MM.csv`` — written once when the month closes (its last day <= as_of); a month
  in progress has no file yet. Each programme's monthly spending is planned from its revised budget
  (execution 92–103% a year, seasonal where the work is) and split over ledger lines, so spending by
  programme reconciles with the budget. Volume: LEDGER_LINES_PER_MONTH x scale lines a month.
- ``positions_YYYY-MM.csv`` — month-end snapshot of every budgeted position, filled or vacant
  (a Markov chain of departures and hires, a few positions vacant for years).

Everything for a month is drawn from ``ctx.rng("finance", ..., year, month)`` and only one month is
held in memory, so ``advance`` writes the same files a longer ``generate`` would have.
"""
from __future__ import annotations

import datetime as dt
import functools
import math

import numpy as np
import pandas as pd

from demo_city import people
from demo_city.core import GenContext, fiscal_year
from demo_city.periods import business_days, fiscal_period, month_end, months_between, months_closing
from demo_city.reference import ANNUAL_BUDGET, DEPARTMENTS, PAVING_VENDORS, PROGRAMS, VENDORS
from demo_city.systems.procurement import CONTRACT_TEMPLATES

SYSTEM = "fin_erp"
DROPS = ("drops", "finance")

LEDGER_LINES_PER_MONTH = 1350  # at scale 1: ~54k lines over the 40-month default history; scale 100 >= 5M
BUDGET_GROWTH = 0.03
EXECUTION_RANGE = (0.92, 1.03)  # actual / revised budget per programme and fiscal year
SALARY_GROWTH = 0.025
POSITION_SHARE = 0.25  # positions generated per position the salary budget pays for, at scale 1
ACCOUNTS = {
    "5100": "Salaries and wages", "5200": "Employee benefits", "5300": "Contractual services",
    "5400": "Materials and supplies", "5500": "Equipment and vehicles", "5600": "Utilities",
}
VENDOR_ACCOUNTS = {"5300", "5400", "5500"}
DEFAULT_ACCOUNT_MIX = {"5100": .55, "5200": .20, "5300": .12, "5400": .07, "5500": .03, "5600": .03}
ACCOUNT_MIX = {
    "pw_resurfacing": {"5100": .05, "5200": .02, "5300": .89, "5400": .02, "5500": .01, "5600": .01},
    "fleet_maintenance": {"5100": .28, "5200": .10, "5300": .14, "5400": .22, "5500": .24, "5600": .02},
    "hs_senior_centres": {"5100": .36, "5200": .12, "5300": .40, "5400": .06, "5500": .02, "5600": .04},
    "hs_child_care": {"5100": .36, "5200": .12, "5300": .40, "5400": .06, "5500": .02, "5600": .04},
    "it_operations": {"5100": .35, "5200": .12, "5300": .38, "5400": .05, "5500": .08, "5600": .02},
    "wat_distribution": {"5100": .30, "5200": .10, "5300": .20, "5400": .20, "5500": .10, "5600": .10},
    "wat_sewer": {"5100": .30, "5200": .10, "5300": .22, "5400": .18, "5500": .10, "5600": .10},
    "san_collection": {"5100": .45, "5200": .16, "5300": .15, "5400": .08, "5500": .12, "5600": .04},
}
FUNDS = {
    "wat_distribution": {"water_sewer_enterprise": 1.0},
    "wat_sewer": {"water_sewer_enterprise": 1.0},
    "san_collection": {"solid_waste_enterprise": 1.0},
    "fleet_maintenance": {"fleet_internal_service": 1.0},
    "pw_resurfacing": {"capital_improvement": 1.0},
    "pw_street_maint": {"general": 0.6, "transportation_special_revenue": 0.4},
    "hs_senior_centres": {"general": 0.7, "grants": 0.3},
    "hs_child_care": {"general": 0.55, "grants": 0.45},
}
FIXED_PROGRAMME_BUDGET = {"pw_resurfacing": 8.6e6}  # the paving contracts (~$8M) plus inspection staff
# Relative spending by fiscal period (1 = July ... 12 = June) where the work is seasonal
SEASONALITY = {
    "pw_resurfacing": [1.3, 1.3, 1.3, 1.3, 1.2, 0.15, 0.1, 0.1, 0.2, 1.1, 1.3, 1.3],
    "parks_maintenance": [1.25, 1.25, 1.1, 1.0, 0.9, 0.8, 0.8, 0.8, 0.9, 1.0, 1.1, 1.2],
    "parks_forestry": [1.2, 1.2, 1.1, 1.0, 1.0, 0.8, 0.8, 0.8, 0.9, 1.0, 1.1, 1.2],
    "parks_recreation": [1.4, 1.3, 0.9, 0.9, 0.8, 0.8, 0.8, 0.8, 0.9, 1.0, 1.1, 1.4],
}
GENERAL_VENDORS = ["VND-0004", "VND-0010", "VND-0011", "VND-0012"]
TITLES = {  # department -> [(title, base annual salary)]; the first title is the most common
    "pol": [("Police Officer", 62000), ("Police Sergeant", 78000), ("Detective", 74000), ("Records Clerk", 41000)],
    "fire": [("Firefighter", 58000), ("Fire Captain", 79000), ("Paramedic", 56000), ("Fire Inspector", 66000)],
    "pw": [("Maintenance Worker", 44000), ("Equipment Operator", 49000), ("Crew Supervisor", 61000), ("Civil Engineer", 82000)],
    "san": [("Sanitation Worker", 42000), ("Refuse Truck Driver", 47000), ("Route Supervisor", 58000)],
    "wat": [("Utility Worker", 46000), ("Plant Operator", 56000), ("Water Engineer", 84000)],
    "parks": [("Groundskeeper", 39000), ("Arborist", 52000), ("Recreation Leader", 38000), ("Parks Supervisor", 60000)],
    "hs": [("Centre Aide", 36000), ("Case Manager", 52000), ("Centre Director", 68000)],
    "lib": [("Library Associate", 38000), ("Librarian", 56000), ("Branch Manager", 70000)],
    "fleet": [("Fleet Mechanic", 52000), ("Parts Clerk", 40000), ("Fleet Supervisor", 66000)],
}
DEFAULT_TITLES = [("Administrative Assistant", 42000), ("Analyst", 64000), ("Specialist", 58000),
                  ("Program Manager", 85000), ("Technician", 50000)]

# Injected defect rates (share of a month's ledger lines; orphan_key: share of lines with a vendor)
DEFECT_RATES = {
    "duplicate": 0.004, "negative_amount": 0.0015, "absurd_amount": 0.0004, "orphan_key": 0.004,
    "invalid_code": 0.0015, "future_date": 0.001, "pii_in_free_text": 0.0015,
}
DEFECT_DESCRIPTIONS = {
    "duplicate": "ledger line exported twice with the same ledger_id",
    "negative_amount": "expenditure amount below zero that is not a reversal, or absurdly large (> 100 million)",
    "orphan_key": "expenditure vendor_id not in the procurement vendor list",
    "invalid_code": "expenditure program_code not in the programme list",
    "future_date": "expenditure posting_date after the export date (year keyed ten years ahead)",
    "pii_in_free_text": "expenditure description containing a phone number or e-mail address",
}
INVALID_CODES = ["TBD", "9999", "misc", "general_fund"]
REVERSAL_RATE = 0.003  # legitimate mis-posting + reversal pairs per line (present in clean data too)
REVERSAL_PREFIX = "Reversal of "

LEDGER_COLUMNS = ["ledger_id", "posting_date", "fiscal_year", "fiscal_period", "department_code", "program_code",
                  "fund", "account", "vendor_id", "amount", "description"]
BUDGET_COLUMNS = ["fiscal_year", "department_code", "program_code", "program_name", "fund", "account",
                  "adopted_amount", "revised_amount"]
POSITION_COLUMNS = ["snapshot_date", "position_id", "department_code", "program_code", "title", "status",
                    "employee_name", "vacant_since", "annual_salary"]


# ---------------------------------------------------------------- budget and spending plan (pure functions)

@functools.lru_cache(maxsize=8)
def _programme_base(seed: int, base_fy: int) -> dict[str, float]:
    """Each programme's budget in the first fiscal year of the history (its department's ANNUAL_BUDGET split).

    The budget is cached per (seed, fiscal year), so it seeds numpy from those plain values rather than ctx.rng.
    """
    rng = np.random.default_rng([seed, base_fy, 1])
    out = {}
    for dept, total in ANNUAL_BUDGET.items():
        programmes = [p for p, (d, _) in PROGRAMS.items() if d == dept]
        fixed = {p: FIXED_PROGRAMME_BUDGET[p] for p in programmes if p in FIXED_PROGRAMME_BUDGET}
        rest = [p for p in programmes if p not in fixed]
        weights = rng.uniform(0.6, 1.4, len(rest))
        out.update(fixed)
        out.update({p: (total - sum(fixed.values())) * w / weights.sum() for p, w in zip(rest, weights)})
    return out


@functools.lru_cache(maxsize=16)
def _budget_table(seed: int, base_fy: int, fy: int) -> pd.DataFrame:
    """Budget rows of one fiscal year: programme x fund x account, adopted and revised."""
    rng = np.random.default_rng([seed, fy, 2])
    rows = []
    for program, base in _programme_base(seed, base_fy).items():
        dept, name = PROGRAMS[program]
        adopted_total = base * (1 + BUDGET_GROWTH) ** (fy - base_fy) * rng.uniform(0.98, 1.02)
        revision = float(np.clip(rng.normal(0, 0.02), -0.05, 0.05))
        for fund, fund_share in FUNDS.get(program, {"general": 1.0}).items():
            for account, share in ACCOUNT_MIX.get(program, DEFAULT_ACCOUNT_MIX).items():
                adopted = round(adopted_total * fund_share * share, -2)
                rows.append((fy, dept, program, name, fund, account, adopted, round(adopted * (1 + revision), -2)))
    return pd.DataFrame(rows, columns=BUDGET_COLUMNS)


def budget(ctx: GenContext, fy: int) -> pd.DataFrame:
    return _budget_table(ctx.seed, fiscal_year(ctx.start), fy)


@functools.lru_cache(maxsize=16)
def _spending_plan(seed: int, base_fy: int, fy: int) -> tuple[list[str], np.ndarray, pd.DataFrame]:
    """(programmes, planned spending [programme, fiscal period], budget cells) of one fiscal year."""
    table = _budget_table(seed, base_fy, fy)
    programmes = list(dict.fromkeys(table["program_code"]))
    revised = table.groupby("program_code", sort=False)["revised_amount"].sum().reindex(programmes).to_numpy()
    execution = np.random.default_rng([seed, fy, 3]).uniform(*EXECUTION_RANGE, len(programmes))
    noise = np.random.default_rng([seed, fy, 4]).normal(1, 0.05, (len(programmes), 12)).clip(0.85, 1.15)
    season = np.array([SEASONALITY.get(p, [1.0] * 12) for p in programmes]) * noise
    spend = (revised * execution)[:, None] * season / season.sum(axis=1, keepdims=True)
    return programmes, spend, table


def programme_month_spend(ctx: GenContext, program_code: str, year: int, month: int) -> float:
    """Planned (and, before injected defects, posted) spending of a programme in a calendar month."""
    fy = fiscal_year(dt.date(year, month, 1))
    programmes, spend, _ = _spending_plan(ctx.seed, fiscal_year(ctx.start), fy)
    return float(spend[programmes.index(program_code), fiscal_period(month) - 1])


def department_budget(ctx: GenContext, fy: int) -> dict[str, float]:
    """Revised budget by department code for one fiscal year."""
    return budget(ctx, fy).groupby("department_code")["revised_amount"].sum().to_dict()


# ---------------------------------------------------------------- ledger

def _ledger_id(year: int, month: int, number: int) -> str:
    """``GL-YYYYMMNNNNNN``: unique without knowing other months, so any month can be written on its own."""
    return f"GL-{year}{month:02d}{number:06d}"


def _programme_vendors(program: str) -> list[str]:
    if program == "pw_resurfacing":
        return PAVING_VENDORS
    return [vendor for _, p, vendor, *_ in CONTRACT_TEMPLATES if p == program]


VENDOR_NAMES = dict(VENDORS)


def _describe(account: str, program: str, vendor, day: str, ref: int) -> str:
    name = PROGRAMS[program][1]
    if account == "5100":
        return f"Payroll {name} pay period ending {day}"
    if account == "5200":
        return f"Employee benefits {name} {day[:7]}"
    if account == "5600":
        return f"Utilities {name} {day[:7]}"
    what = {"5300": "Contractual services", "5400": "Supplies", "5500": "Equipment"}[account]
    payee = VENDOR_NAMES[vendor] if vendor else "miscellaneous payee"
    return f"{what} {name} invoice INV-{ref:06d} {payee}"


def ledger_month(ctx: GenContext, year: int, month: int) -> tuple[pd.DataFrame, dict[str, list[str]]]:
    """One month of ledger lines (with this month's injected defects) and {defect_class: ledger ids}."""
    fy, period = fiscal_year(dt.date(year, month, 1)), fiscal_period(month)
    programmes, spend_plan, table = _spending_plan(ctx.seed, fiscal_year(ctx.start), fy)
    spend = spend_plan[:, period - 1]
    rng = ctx.rng("finance", "gl", year, month)
    n_prog = len(programmes)

    # lines per programme (at least one each), then a budget cell (fund, account) per line by budget weight
    n = max(n_prog, round(LEDGER_LINES_PER_MONTH * ctx.scale * rng.uniform(0.9, 1.1)))
    share = np.sqrt(spend) / np.sqrt(spend).sum()
    prog = np.repeat(np.arange(n_prog), 1 + rng.multinomial(n - n_prog, share))
    cells = table.assign(p=table["program_code"].map({p: i for i, p in enumerate(programmes)})).sort_values("p", kind="stable")
    weight = cells["revised_amount"].to_numpy(float)
    cum = np.concatenate([np.cumsum(w) / w.sum() for _, w in pd.Series(weight).groupby(cells["p"].to_numpy(), sort=True)])
    cum[np.r_[np.flatnonzero(np.diff(cells["p"].to_numpy())), len(cum) - 1]] = 1.0  # each programme ends at exactly 1
    cell = np.searchsorted(cells["p"].to_numpy() + cum, prog + rng.random(n), side="right")
    fund = cells["fund"].to_numpy(object)[cell]
    account = cells["account"].to_numpy(object)[cell]

    # amounts: lognormal weights normalised so each programme's lines sum to its planned spending
    w = rng.lognormal(0.0, 0.9, n)
    amount = np.round(spend[prog] * w / np.bincount(prog, weights=w, minlength=n_prog)[prog], 2)

    days = business_days(year, month)
    day = np.array([d.isoformat() for d in days], dtype=object)[rng.integers(0, len(days), n)]

    pick, specific, ref = rng.random(n), rng.random(n), rng.integers(0, 1_000_000, n)
    wants_vendor = np.isin(account, list(VENDOR_ACCOUNTS)) & (pick < 0.9)
    vendor = np.full(n, None, dtype=object)
    for i, program in enumerate(programmes):
        rows = np.flatnonzero(wants_vendor & (prog == i))
        own = _programme_vendors(program)
        for r in rows:  # contracted services go to the programme's contractors; purchases mostly too
            pool = own if own and (account[r] == "5300" or specific[r] < 0.75) else GENERAL_VENDORS
            vendor[r] = pool[ref[r] % len(pool)]

    order = np.lexsort((rng.random(n), day))
    prog, fund, account, amount, day, vendor, ref = (a[order] for a in (prog, fund, account, amount, day, vendor, ref))
    program = np.asarray(programmes, dtype=object)[prog]
    frame = pd.DataFrame({
        "ledger_id": [_ledger_id(year, month, i) for i in range(1, n + 1)],
        "posting_date": day,
        "fiscal_year": fy,
        "fiscal_period": period,
        "department_code": [PROGRAMS[p][0] for p in program],
        "program_code": program,
        "fund": fund,
        "account": account,
        "vendor_id": vendor,
        "amount": amount,
        "description": [_describe(a, p, v, d, r) for a, p, v, d, r in zip(account, program, vendor, day, ref)],
    })
    frame = pd.concat([frame, _corrections(frame, rng, year, month)], ignore_index=True)
    defects: dict[str, list[str]] = {}
    if not ctx.clean:
        frame, defects = _inject_defects(frame, n, rng)
    return frame, defects


def _corrections(frame: pd.DataFrame, rng: np.random.Generator, year: int, month: int) -> pd.DataFrame:
    """Legitimate month-end corrections: a line posted to the wrong account, then reversed (nets to zero)."""
    n = len(frame)
    chosen = np.sort(rng.choice(n, rng.binomial(n, REVERSAL_RATE), replace=False))
    mispost = frame.iloc[chosen].copy()
    mispost["account"] = np.where(mispost["account"] == "5400", "5300", "5400")
    mispost["description"] = mispost["description"] + " (posted to wrong account)"
    mispost["ledger_id"] = [_ledger_id(year, month, i) for i in range(n + 1, n + 1 + len(chosen))]
    reversal = mispost.copy()
    reversal["posting_date"] = business_days(year, month)[-1].isoformat()
    reversal["amount"] = -reversal["amount"]
    reversal["description"] = [f"{REVERSAL_PREFIX}{i} (posted to wrong account)" for i in mispost["ledger_id"]]
    start = n + 1 + len(chosen)
    reversal["ledger_id"] = [_ledger_id(year, month, i) for i in range(start, start + len(chosen))]
    return pd.concat([mispost, reversal], ignore_index=True)


def _inject_defects(frame: pd.DataFrame, n_base: int, rng: np.random.Generator):
    """Damage disjoint sets of the month's ordinary lines (never the corrections); returns (frame, ids)."""
    free = rng.permutation(n_base)

    def take(count, allowed=None):
        nonlocal free
        pool = free if allowed is None else free[np.isin(free, allowed)]
        chosen = pool[:count]
        free = free[~np.isin(free, chosen)]
        return np.sort(chosen)

    has_vendor = np.flatnonzero(frame["vendor_id"].iloc[:n_base].notna().to_numpy())
    picks = {cls: take(rng.binomial(n_base, rate)) for cls, rate in DEFECT_RATES.items() if cls != "orphan_key"}
    picks["orphan_key"] = take(rng.binomial(len(has_vendor), DEFECT_RATES["orphan_key"]), has_vendor)
    # edit plain arrays (per-cell writes into Arrow-backed string columns are slow), then rebuild the frame
    col = {c: frame[c].to_numpy(dtype=float if c == "amount" else object, copy=True) for c in frame.columns}
    for i in picks["negative_amount"]:
        col["amount"][i] = -abs(col["amount"][i]) or -1.0
    for i in picks["absurd_amount"]:
        col["amount"][i] = round(float(rng.uniform(1.2e8, 9.9e8)), 2)
    for i in picks["orphan_key"]:
        col["vendor_id"][i] = f"VND-{int(rng.integers(100, 1000)):04d}"
    for i in picks["invalid_code"]:
        col["program_code"][i] = str(rng.choice(INVALID_CODES))
    for i in picks["future_date"]:
        col["posting_date"][i] = (dt.date.fromisoformat(col["posting_date"][i]) + dt.timedelta(days=3652)).isoformat()
    for i in picks["pii_in_free_text"]:
        who = str(people.names(rng, 1)[0])
        leak = f"call {who} at {people.phone(rng)}" if rng.random() < 0.5 else f"contact {people.email(who, 'example.com')}"
        col["description"][i] = f"{col['description'][i]} - {leak}"
    # duplicates: the same line (same ledger_id) exported twice, right after the original
    repeat = np.ones(len(frame), dtype=int)
    repeat[picks["duplicate"]] = 2
    f = pd.DataFrame({c: np.repeat(values, repeat) for c, values in col.items()})
    ids = lambda rows: frame["ledger_id"].to_numpy()[rows].tolist()  # noqa: E731
    defects = {
        "duplicate": ids(picks["duplicate"]),
        "negative_amount": ids(np.concatenate([picks["negative_amount"], picks["absurd_amount"]])),
        "orphan_key": ids(picks["orphan_key"]),
        "invalid_code": ids(picks["invalid_code"]),
        "future_date": ids(picks["future_date"]),
        "pii_in_free_text": ids(picks["pii_in_free_text"]),
    }
    return f, {cls: v for cls, v in defects.items() if v}


# ---------------------------------------------------------------- positions

@functools.lru_cache(maxsize=4)
def _roster(seed: int, scale: float, base_fy: int) -> pd.DataFrame:
    """Budgeted positions per programme: POSITION_SHARE of the headcount its salary budget pays for, x sqrt(scale),
    at least one. (A sample of the workforce keeps monthly snapshots well below the ledger's volume.)"""
    rng = np.random.default_rng([seed, base_fy, 5])
    salaries = _budget_table(seed, base_fy, base_fy).query("account == '5100'").groupby("program_code", sort=False)["adopted_amount"].sum()
    frames = []
    for program, salary_budget in salaries.items():
        dept = PROGRAMS[program][0]
        titles = TITLES.get(dept, DEFAULT_TITLES)
        probs = np.array([3.0] + [1.0] * (len(titles) - 1))
        avg = float(np.dot(probs / probs.sum(), [s for _, s in titles]))
        count = max(1, round(salary_budget / avg * POSITION_SHARE * math.sqrt(scale)))
        t = rng.choice(len(titles), count, p=probs / probs.sum())
        frames.append(pd.DataFrame({
            "department_code": dept,
            "program_code": program,
            "title": [titles[i][0] for i in t],
            "base_salary": np.round(np.array([titles[i][1] for i in t]) * rng.uniform(0.9, 1.15, count), -2),
        }))
    roster = pd.concat(frames, ignore_index=True)
    roster.insert(0, "position_id", [f"POS-{i:05d}" for i in range(1, len(roster) + 1)])
    return roster


def _positions_history(ctx: GenContext, last: dt.date):
    """Yield (year, month, snapshot frame) for every month from the history start to ``last``.

    Each month's departures and hires draw from ``ctx.rng("finance", "positions", year, month)``, so the
    chain is reproducible; it is cheap enough to replay from the start on every advance.
    """
    base_fy = fiscal_year(ctx.start)
    roster = _roster(ctx.seed, ctx.scale, base_fy)
    n = len(roster)
    rng = ctx.rng("finance", "positions", "initial")
    long_vacant = rng.random(n) < 0.03
    filled = (rng.random(n) > 0.06) & ~long_vacant
    names = people.names(rng, n)
    vacant_since = np.array(
        [ctx.start - dt.timedelta(days=int(d)) for d in np.where(long_vacant, rng.integers(200, 700, n), rng.integers(10, 150, n))],
        dtype=object,
    )
    for year, month in months_between(ctx.start, last):
        rng = ctx.rng("finance", "positions", year, month)
        leave, hire, new_names = rng.random(n), rng.random(n), people.names(rng, n)
        leave_day = rng.integers(1, month_end(year, month).day + 1, n)
        leaving = filled & (leave < 0.012)
        hiring = ~filled & ~long_vacant & (hire < 0.22)
        filled = (filled & ~leaving) | hiring
        names = np.where(hiring, new_names, names)
        vacant_since = np.where(leaving, [dt.date(year, month, int(d)) for d in leave_day], vacant_since)
        fy = fiscal_year(dt.date(year, month, 1))
        yield year, month, pd.DataFrame({
            "snapshot_date": month_end(year, month).isoformat(),
            "position_id": roster["position_id"],
            "department_code": roster["department_code"],
            "program_code": roster["program_code"],
            "title": roster["title"],
            "status": np.where(filled, "filled", "vacant"),
            "employee_name": np.where(filled, names, None),
            "vacant_since": [None if f else d.isoformat() for f, d in zip(filled, vacant_since)],
            "annual_salary": np.round(roster["base_salary"].to_numpy() * (1 + SALARY_GROWTH) ** (fy - base_fy), -2).astype(int),
        })


# ---------------------------------------------------------------- writing

def _write_csv(frame: pd.DataFrame, path) -> None:
    frame.to_csv(path, index=False, float_format="%.2f", lineterminator="\n")


def _write(ctx: GenContext, first: dt.date, last: dt.date) -> None:
    for fy in range(fiscal_year(ctx.start), fiscal_year(last) + 1):
        opens = dt.date(fy - 1, 7, 1)
        if first <= opens <= last and opens >= ctx.start:
            table = budget(ctx, fy)
            _write_csv(table, ctx.path(*DROPS, f"budget_FY{fy}.csv"))
            ctx.count(f"{SYSTEM}.budget", len(table))
    due = set(months_closing(first, last, ctx.start))
    for year, month in sorted(due):
        frame, defects = ledger_month(ctx, year, month)
        _write_csv(frame, ctx.path(*DROPS, f"gl_expenditures_{year}-{month:02d}.csv"))
        ctx.count(f"{SYSTEM}.expenditures", len(frame))
        for defect_class, ids in defects.items():
            ctx.defects.add(defect_class, f"{SYSTEM}.expenditures", ids, DEFECT_DESCRIPTIONS[defect_class])
    if due:
        for year, month, snapshot in _positions_history(ctx, last):
            if (year, month) in due:
                _write_csv(snapshot, ctx.path(*DROPS, f"positions_{year}-{month:02d}.csv"))
                ctx.count(f"{SYSTEM}.positions", len(snapshot))


def generate(ctx: GenContext) -> None:
    _write(ctx, ctx.start, ctx.as_of)


def advance(ctx: GenContext, first: dt.date, last: dt.date) -> None:
    _write(ctx, first, last)
