"""Procurement portal: vendors, contracts and the benchmarks of results-driven contracts (Socrata SODA store).

Written to ``procurement/portal.sqlite``, one table per SODA resource, each row carrying the system
fields ``":id"`` and ``":updated_at"``. The portal's state is a pure function of the day: a contract
row appears when it is awarded and is updated (``":updated_at"`` moves) when its status changes, so
``advance`` upserts exactly the rows whose last change falls in the new days.

Paving: for every season (April–November) that starts inside the history, three regional
results-driven resurfacing contracts (~$8M a year together), one per paving contractor; the
regions rotate so the underperforming contractor is not confounded with one region.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import math
import sqlite3
from zoneinfo import ZoneInfo

from demo_city import people
from demo_city.core import GenContext
from demo_city.reference import PAVING_REGIONS, PAVING_VENDORS, VENDORS
from demo_city.sqlite_store import bulk_load, open_store

SYSTEM = "proc_portal"
DATABASE = ("procurement", "portal.sqlite")
LOCAL_TZ = ZoneInfo("America/New_York")
# Socrata-style 4x4 resource ids -> table names (docs/contracts.md)
RESOURCES = {"vndr-2x7k": "vendors", "ctrc-9p3m": "contracts", "mlst-4h8q": "contract_milestones"}

PAVING_SEASON_VALUE = 8.0e6  # all three regional contracts of a season together, first season
PAVING_VALUE_GROWTH = 0.03  # per season
REGION_SHARE = {"north": 0.30, "central": 0.37, "south": 0.33}
SEGMENTS_PER_CONTRACT = (30, 50)  # at scale 1; grows with sqrt(scale) so paving stays modest
# (name, share of the season elapsed at the due date, cumulative target share, weight, metric).
# Progression benchmarks follow Boston's asphalt contracts (graded three-quarters through the season);
# for quality/parking/environmental, target_share is the share of completed segments that must meet the
# standard (no rework / no incident). Weights are shares of the performance pool and sum to 1.
PAVING_MILESTONES = [
    ("25% of planned segments complete", 0.30, 0.25, 0.15, "progression"),
    ("50% of planned segments complete", 0.55, 0.50, 0.15, "progression"),
    ("75% of planned segments complete", 0.78, 0.75, 0.15, "progression"),
    ("100% of planned segments complete", 1.00, 1.00, 0.15, "progression"),
    ("Pavement quality: no rework required", 1.00, 0.90, 0.20, "quality"),
    ("Parking management: no incidents", 1.00, 0.90, 0.10, "parking"),
    ("Environmental management: no incidents", 1.00, 0.95, 0.10, "environmental"),
]

# Recurring non-paving purchases: (department, programme, vendor, title, contract type, value range).
# The ledger draws its vendor payments from the same pairs (demo_city.systems.finance).
CONTRACT_TEMPLATES = [
    ("fleet", "fleet_maintenance", "VND-0005", "Fleet parts and repair supply", "time_materials", (2.5e6, 4.5e6)),
    ("san", "san_collection", "VND-0005", "Refuse truck parts", "time_materials", (0.6e6, 1.2e6)),
    ("parks", "parks_forestry", "VND-0006", "Tree pruning and removal", "fixed_price", (0.8e6, 1.6e6)),
    ("wat", "wat_distribution", "VND-0007", "Water main pipe and valves", "fixed_price", (2.0e6, 4.0e6)),
    ("wat", "wat_sewer", "VND-0007", "Sewer lining materials", "fixed_price", (1.0e6, 2.0e6)),
    ("pw", "pw_streetlights", "VND-0008", "Streetlight LED maintenance", "time_materials", (1.0e6, 2.0e6)),
    ("trn", "trn_signals", "VND-0008", "Traffic signal controller upgrades", "fixed_price", (0.8e6, 1.5e6)),
    ("it", "it_operations", "VND-0009", "Managed IT services", "fixed_price", (2.0e6, 3.2e6)),
    ("pol", "pol_patrol", "VND-0012", "Body armour and safety equipment", "fixed_price", (0.5e6, 1.0e6)),
    ("fire", "fire_suppression", "VND-0012", "Turnout gear", "fixed_price", (0.4e6, 0.9e6)),
    ("proc", "proc_purchasing", "VND-0004", "Citywide office supplies", "time_materials", (0.3e6, 0.6e6)),
    ("perf", "perf_analytics", "VND-0011", "Performance management consulting", "fixed_price", (0.1e6, 0.3e6)),
    ("omb", "omb_budget", "VND-0011", "Budget system implementation", "fixed_price", (0.2e6, 0.5e6)),
    ("lib", "lib_branches", "VND-0010", "Branch library janitorial services", "fixed_price", (0.2e6, 0.4e6)),
    ("parks", "parks_recreation", "VND-0010", "Recreation centre janitorial services", "fixed_price", (0.2e6, 0.4e6)),
    ("hs", "hs_child_care", "VND-0010", "Child-care centre cleaning", "fixed_price", (0.1e6, 0.3e6)),
]
TEMPLATE_ID_OFFSET = 10  # contract ids CTR-YYNN: NN 01-03 are the season's paving contracts, 10+ the templates

COLUMNS = {
    "vendors": ["vendor_id", "vendor_name", "address", "contact_name", "contact_email", "status", "registered_date"],
    "contracts": [
        "contract_id", "vendor_id", "title", "department_code", "program_code", "contract_type", "season_year",
        "region", "start_date", "end_date", "total_value", "base_payment", "performance_pool",
        "penalty_per_day_late", "penalty_per_incident", "warranty_months", "planned_miles", "status",
    ],
    "contract_milestones": ["milestone_id", "contract_id", "milestone_name", "due_date", "target_share", "weight", "metric"],
}
SQL_TYPES = {
    "season_year": "INTEGER", "warranty_months": "INTEGER", "total_value": "REAL", "base_payment": "REAL",
    "performance_pool": "REAL", "penalty_per_day_late": "REAL", "penalty_per_incident": "REAL",
    "planned_miles": "REAL", "target_share": "REAL", "weight": "REAL",
}
PRIMARY_KEYS = {"vendors": "vendor_id", "contracts": "contract_id", "contract_milestones": "milestone_id"}
VENDOR_STREETS = ["Commerce Dr", "Industrial Blvd", "Market St", "Peachtree Pkwy", "Foundry Rd", "Harbor Way"]


def soda_timestamp(moment: dt.datetime) -> str:
    """Naive local time -> ISO 8601 with the city's UTC offset (-05:00 / -04:00), as SODA serves it."""
    return moment.replace(tzinfo=LOCAL_TZ).isoformat(timespec="seconds")


def row_id(table: str, record_id: str) -> str:
    """Stable Socrata-style ``:id`` (``row-abcd.efgh_ijkl``)."""
    h = hashlib.sha1(f"{table}:{record_id}".encode()).hexdigest()
    return f"row-{h[:4]}.{h[4:8]}_{h[8:12]}"


def _contract_number(year: int, n: int) -> str:
    return f"CTR-{year % 100:02d}{n:02d}"


def paving_seasons(ctx: GenContext) -> list[int]:
    """Calendar years whose paving season starts inside the history and whose contracts are awarded by as_of."""
    return [
        year
        for year in range(ctx.start.year, ctx.as_of.year + 1)
        if dt.date(year, 4, 1) >= ctx.start and _paving_award_date(ctx, year) <= ctx.as_of
    ]


def _paving_award_date(ctx: GenContext, year: int) -> dt.date:
    return dt.date(year, 3, 2) + dt.timedelta(days=int(ctx.rng("procurement", "paving_award", year).integers(0, 12)))


def paving_contracts(ctx: GenContext, year: int) -> list[dict]:
    """The three regional resurfacing contracts of a season (a pure function of seed, scale and year)."""
    rng = ctx.rng("procurement", "paving", year)
    award = _paving_award_date(ctx, year)
    shift = year % len(PAVING_REGIONS)  # rotate contractors over regions season by season
    season_value = PAVING_SEASON_VALUE * (1 + PAVING_VALUE_GROWTH) ** (year - ctx.start.year)
    contracts = []
    for k, region in enumerate(PAVING_REGIONS):
        vendor = PAVING_VENDORS[(k + shift) % len(PAVING_VENDORS)]
        value = round(season_value * REGION_SHARE[region] * rng.uniform(0.95, 1.05), -3)
        pool = round(value * rng.uniform(0.10, 0.15), -2)
        low, high = SEGMENTS_PER_CONTRACT
        segments = max(8, round(int(rng.integers(low, high + 1)) * math.sqrt(ctx.scale)))
        contracts.append({
            "contract_id": _contract_number(year, k + 1),
            "vendor_id": vendor,
            "title": f"{year} {region.title()} region street resurfacing (results-driven)",
            "department_code": "pw",
            "program_code": "pw_resurfacing",
            "contract_type": "results_driven",
            "season_year": year,
            "region": region,
            "start_date": dt.date(year, 4, 1).isoformat(),
            "end_date": dt.date(year, 11, 30).isoformat(),
            "total_value": value,
            "base_payment": value - pool,
            "performance_pool": pool,
            "penalty_per_day_late": float(rng.choice([1000, 1500, 2000, 2500])),
            "penalty_per_incident": float(rng.choice([250, 500, 750, 1000])),
            "warranty_months": int(rng.choice([24, 36])),
            "planned_miles": round(segments * rng.uniform(0.22, 0.30), 2),
            # not columns: used by the paving reports and the status timeline
            "planned_segments": segments,
            "_events": [(dt.datetime.combine(award, dt.time(10, 5 * k)), "active"),
                        (dt.datetime(year, 12, 15, 11, 0), "completed")],
        })
    return contracts


def _template_contracts(ctx: GenContext, year: int) -> list[dict]:
    """Non-paving contracts awarded in a calendar year (term 1–3 years; a few withdrawn)."""
    rng = ctx.rng("procurement", "contracts", year)
    out = []
    for i, (dept, program, vendor, title, kind, (low, high)) in enumerate(CONTRACT_TEMPLATES):
        # draw everything before deciding, so one template's outcome never shifts another's draws
        awarded = rng.random() < 0.55
        award_day, term_years, lag = int(rng.integers(0, 365)), int(rng.integers(1, 4)), int(rng.integers(14, 46))
        value = round(rng.uniform(low, high) * term_years, -3)
        withdraw, withdraw_after = rng.random() < 0.06, int(rng.integers(20, 120))
        if not awarded:
            continue
        award = dt.date(year, 1, 1) + dt.timedelta(days=min(award_day, 364))
        start = award + dt.timedelta(days=lag)
        end = dt.date(start.year + term_years, start.month, 1) - dt.timedelta(days=1)
        events = [(dt.datetime.combine(award, dt.time(9, 30)), "active")]
        if withdraw:
            events.append((dt.datetime.combine(award + dt.timedelta(days=withdraw_after), dt.time(15, 0)), "withdrawn"))
        else:
            events.append((dt.datetime.combine(end + dt.timedelta(days=10), dt.time(11, 0)), "completed"))
        out.append({
            "contract_id": _contract_number(year, TEMPLATE_ID_OFFSET + i),
            "vendor_id": vendor,
            "title": f"{title} ({year})",
            "department_code": dept,
            "program_code": program,
            "contract_type": kind,
            "season_year": None,
            "region": None,
            "start_date": start.isoformat(),
            "end_date": end.isoformat(),
            "total_value": value,
            "base_payment": value,
            "performance_pool": 0.0,
            "penalty_per_day_late": 0.0,
            "penalty_per_incident": 0.0,
            "warranty_months": 12 if kind == "fixed_price" else 0,
            "planned_miles": None,
            "_events": events,
        })
    return out


def _vendor_rows(ctx: GenContext) -> list[dict]:
    rng = ctx.rng("procurement", "vendors")
    contacts = people.names(rng, len(VENDORS))
    rows = []
    for (vendor_id, name), contact in zip(VENDORS, contacts):
        domain = "".join(ch for ch in "".join(name.lower().split()[:2]) if ch.isalnum()) + ".com"
        registered = dt.date(2015, 1, 1) + dt.timedelta(days=int(rng.integers(0, 7 * 365)))
        rows.append({
            "vendor_id": vendor_id,
            "vendor_name": name,
            "address": f"{int(rng.integers(100, 9900))} {rng.choice(VENDOR_STREETS)}, Riverton",
            "contact_name": contact,
            "contact_email": people.email(contact, domain),
            "status": "active",
            "registered_date": registered.isoformat(),
            ":updated_at": soda_timestamp(dt.datetime.combine(registered, dt.time(10, 0))),
        })
    return rows


def _state(contract: dict, as_of: dt.date) -> dict | None:
    """The contract row as the portal shows it on ``as_of`` (None before award)."""
    events = [(t, s) for t, s in contract["_events"] if t.date() <= as_of]
    if not events:
        return None
    moment, status = events[-1]
    row = {c: contract[c] for c in COLUMNS["contracts"] if c != "status"}
    row["status"] = status
    row[":updated_at"] = soda_timestamp(moment)
    return row


def _milestone_rows(contract: dict) -> list[dict]:
    start, end = dt.date.fromisoformat(contract["start_date"]), dt.date.fromisoformat(contract["end_date"])
    awarded = soda_timestamp(contract["_events"][0][0])
    rows = []
    for k, (name, elapsed, target, weight, metric) in enumerate(PAVING_MILESTONES, start=1):
        rows.append({
            "milestone_id": f"MS-{contract['contract_id'][4:]}{k:02d}",
            "contract_id": contract["contract_id"],
            "milestone_name": name,
            "due_date": (start + dt.timedelta(days=round((end - start).days * elapsed))).isoformat(),
            "target_share": target,
            "weight": weight,
            "metric": metric,
            ":updated_at": awarded,
        })
    return rows


def all_contracts(ctx: GenContext) -> list[dict]:
    """Every contract awarded by as_of that touches the history (with internal timeline keys)."""
    contracts = [c for year in paving_seasons(ctx) for c in paving_contracts(ctx, year)]
    for year in range(ctx.start.year - 2, ctx.as_of.year + 1):
        for c in _template_contracts(ctx, year):
            if c["_events"][0][0].date() <= ctx.as_of and c["end_date"] >= ctx.start.isoformat():
                contracts.append(c)
    return contracts


def _schema() -> tuple[str, str]:
    """(CREATE TABLE statements, CREATE INDEX statements) for the three SODA resources."""
    tables, indexes = [], []
    for table, columns in COLUMNS.items():
        cols = [f'"{c}" {SQL_TYPES.get(c, "TEXT")}' + (" PRIMARY KEY" if c == PRIMARY_KEYS[table] else "") for c in columns]
        cols += ['":id" TEXT NOT NULL UNIQUE', '":updated_at" TEXT NOT NULL']
        tables.append(f"CREATE TABLE {table} ({', '.join(cols)});")
        indexes.append(f'CREATE INDEX {table}_updated_at ON {table} (":updated_at");')
    return "\n".join(tables), "\n".join(indexes)


def _upsert(con: sqlite3.Connection, table: str, rows: list[dict]) -> int:
    """Insert new rows, update changed ones in place; returns how many rows were new."""
    if not rows:
        return 0
    key = PRIMARY_KEYS[table]
    columns = COLUMNS[table] + [":updated_at"]
    before = con.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
    names = ", ".join(f'"{c}"' for c in columns + [":id"])
    updates = ", ".join(f'"{c}" = excluded."{c}"' for c in columns if c != key)
    con.executemany(
        f"INSERT INTO {table} ({names}) VALUES ({', '.join('?' * (len(columns) + 1))}) "
        f"ON CONFLICT({key}) DO UPDATE SET {updates}",
        [[r[c] for c in columns] + [row_id(table, r[key])] for r in rows],
    )
    return con.execute(f"SELECT count(*) FROM {table}").fetchone()[0] - before


def _changed_between(rows: list[dict], first: dt.date, last: dt.date) -> list[dict]:
    return [r for r in rows if first.isoformat() <= r[":updated_at"][:10] <= last.isoformat()]


def _rows(ctx: GenContext) -> dict[str, list[dict]]:
    """Every row the portal shows on ctx.as_of, by table."""
    contracts = all_contracts(ctx)
    return {
        "vendors": _vendor_rows(ctx),
        "contracts": [s for s in (_state(c, ctx.as_of) for c in contracts) if s],
        "contract_milestones": [m for c in contracts if c["contract_type"] == "results_driven" for m in _milestone_rows(c)],
    }


def _store(ctx: GenContext, conn: sqlite3.Connection, rows: dict[str, list[dict]]) -> None:
    for table, table_rows in rows.items():
        ctx.count(f"{SYSTEM}.{table}", _upsert(conn, table, table_rows))


def generate(ctx: GenContext) -> None:
    with bulk_load(ctx.path(*DATABASE), *_schema()) as conn:
        _store(ctx, conn, _rows(ctx))


def advance(ctx: GenContext, first: dt.date, last: dt.date) -> None:
    """Upsert the rows whose last change (``:updated_at``) falls in [first, last]."""
    with open_store(ctx.out.joinpath(*DATABASE)) as conn:
        _store(ctx, conn, {table: _changed_between(rows, first, last) for table, rows in _rows(ctx).items()})
