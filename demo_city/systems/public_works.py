"""Public Works maintenance management system (``public_works/mms.sqlite``): crews, assets, work orders.

Most work orders come from 311 requests for potholes, streetlights, signs and sidewalks: the order is
opened a few hours after the request, often scheduled, and completed just before the 311 request is
closed (so the department's on-time climb shows in both systems); requests closed as "no issue found"
get a cancelled order. Crews also open proactive orders on weekdays. Like the CRM, each month's orders
are planned whole (from the CRM's plan of that month) and cut at ``as_of``; work order ids carry the
month they belong to (``WO-2403-000123``), so ``advance`` finds an order's plan from its id.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from demo_city.clock import DAY, HOUR, MINUTE, date_text, end_of_day, month_days, month_starts, naive_text, nullable, seconds
from demo_city import people
from demo_city.core import GenContext
from demo_city.places import address_book
from demo_city.record_ids import format_ids
from demo_city.reference import DISTRICTS
from demo_city.sqlite_store import bulk_load, insert, open_store, slices, update
from demo_city.systems import crm311

SYSTEM = "pw_mms"
DATABASE = ("public_works", "mms.sqlite")

WORK_TYPES = ["pothole", "streetlight", "sign", "sidewalk"]
W = {w: i for i, w in enumerate(WORK_TYPES)}
FROM_SERVICE = {"POTHOLE": "pothole", "STREETLIGHT": "streetlight", "SIGN": "sign", "SIDEWALK": "sidewalk"}
ASSET_TYPES = ["road_segment", "streetlight", "sign"]
ASSET_FOR_WORK = np.asarray([0, 1, 2, 0])  # sidewalks are logged against the road segment
ASSETS_AT_SCALE_1 = {"road_segment": 1500, "streetlight": 4000, "sign": 2500}
INSTALLED = {"road_segment": (1950, 2021), "streetlight": (1985, 2025), "sign": (1995, 2025)}

# Crews: a street-repair and a lights-and-signs crew per district, plus one citywide concrete crew
CREWS = [(f"CREW-{i * 2 + 1:02d}", f"{d.title()} street repair", d) for i, d in enumerate(DISTRICTS)] + [
    (f"CREW-{i * 2 + 2:02d}", f"{d.title()} lights and signs", d) for i, d in enumerate(DISTRICTS)
]
CREWS = sorted(CREWS) + [("CREW-11", "Citywide concrete", "central")]
CREW_INDEX = {c[0]: i for i, c in enumerate(CREWS)}
RETIRED_CREW = "CREW-14"  # disbanded in a reorganisation: no longer in the crews table (orphan_key defect)


def crew_for(work_type: np.ndarray, district_idx: np.ndarray) -> np.ndarray:
    """Index into CREWS of the crew that does this work in this district."""
    street = 2 * district_idx  # CREW-01, 03, ... sorted first within each pair
    crew = np.where(np.isin(work_type, [W["streetlight"], W["sign"]]), street + 1, street)
    return np.where(work_type == W["sidewalk"], len(CREWS) - 1, crew)


WO_SHARE = {"POTHOLE": 0.95, "STREETLIGHT": 0.97, "SIGN": 0.95, "SIDEWALK": 0.9}  # of resolved requests
NO_ISSUE_WO_SHARE = 0.5  # "no issue found" requests that had an order opened, then cancelled
PROACTIVE_PER_WEEKDAY = 2.9  # at scale 1
PROACTIVE_MIX = [0.5, 0.22, 0.2, 0.08]
PROACTIVE_DAYS = np.asarray([1.5, 6.0, 3.0, 20.0])  # median days to complete
PROACTIVE_CANCELLED = 0.03
SCHEDULED_SHARE = np.asarray([0.4, 0.75, 0.7, 0.85])
LABOR_HOURS = np.asarray([2.0, 2.5, 1.5, 10.0])  # medians
MATERIAL_COST = np.asarray([140.0, 260.0, 95.0, 1900.0])

CLOSED_BEFORE_OPENED_RATE = 0.003
NEGATIVE_AMOUNT_RATE = 0.003
ORPHAN_KEY_RATE = 0.003

SCHEMA = """
CREATE TABLE crews(crew_id TEXT PRIMARY KEY, crew_name TEXT, district TEXT, crew_size INTEGER, supervisor_name TEXT);
CREATE TABLE assets(asset_id TEXT PRIMARY KEY, asset_type TEXT, street_name TEXT, district TEXT, lat REAL, lon REAL,
    installed_year INTEGER);
CREATE TABLE work_orders(work_order_id TEXT PRIMARY KEY, service_request_id TEXT, asset_id TEXT, work_type TEXT,
    crew_id TEXT, status TEXT, created_at TEXT, scheduled_date TEXT, completed_at TEXT, labor_hours REAL,
    material_cost REAL, updated_at TEXT);
"""
INDEXES = """
CREATE INDEX work_orders_updated ON work_orders(updated_at);
CREATE INDEX work_orders_status ON work_orders(status);
CREATE INDEX work_orders_request ON work_orders(service_request_id);
"""
WO_COLUMNS = [
    "work_order_id", "service_request_id", "asset_id", "work_type", "crew_id", "status", "created_at",
    "scheduled_date", "completed_at", "labor_hours", "material_cost", "updated_at",
]  # fmt: skip
STATE_COLUMNS = ["status", "scheduled_date", "completed_at", "labor_hours", "material_cost", "updated_at"]


@dataclass(frozen=True)
class Assets:
    asset_id: np.ndarray
    type_idx: np.ndarray
    district_idx: np.ndarray
    street: np.ndarray
    lat: np.ndarray
    lon: np.ndarray
    installed_year: np.ndarray

    def pick(self, rng: np.random.Generator, asset_type: np.ndarray, district_idx: np.ndarray) -> np.ndarray:
        """A random asset of the given type in the given district, for each order."""
        out = np.empty(len(asset_type), dtype=np.int64)
        for a in range(len(ASSET_TYPES)):
            for d in range(len(DISTRICTS)):
                sel = np.flatnonzero((asset_type == a) & (district_idx == d))
                pool = np.flatnonzero((self.type_idx == a) & (self.district_idx == d))
                if len(sel):
                    out[sel] = pool[rng.integers(0, len(pool), len(sel))]
        return out


@lru_cache(maxsize=4)
def _assets(seed: int, scale: float) -> Assets:
    rng = np.random.default_rng([seed, 0xA55E7])
    book = address_book(seed)
    types, at = [], []
    for i, name in enumerate(ASSET_TYPES):
        n = max(100, round(ASSETS_AT_SCALE_1[name] * scale))
        types.append(np.full(n, i))
        lo, hi = INSTALLED[name]
        at.append(rng.integers(lo, hi, n))
    type_idx, installed = np.concatenate(types), np.concatenate(at)
    n = len(type_idx)
    where = rng.integers(0, len(book.address_id), n)
    # every district needs every asset type, so orders can always find one nearby
    district = book.district_idx[where].copy()
    district[: len(DISTRICTS) * len(ASSET_TYPES)] = np.tile(np.arange(len(DISTRICTS)), len(ASSET_TYPES))
    type_idx[: len(DISTRICTS) * len(ASSET_TYPES)] = np.repeat(np.arange(len(ASSET_TYPES)), len(DISTRICTS))
    ids = format_ids("AST-", np.arange(1, n + 1), 7)
    lat = np.round(book.lat[where] + rng.normal(0, 0.0005, n), 6)
    lon = np.round(book.lon[where] + rng.normal(0, 0.0005, n), 6)
    return Assets(ids, type_idx, district, book.street[where], lat, lon, installed)


@dataclass
class MonthOrders:
    """Every work order belonging to one month (by its 311 request's month, or when opened), sorted by opening."""

    month: dt.date
    request_number: np.ndarray  # SR number, or -1 for proactive orders
    work_type: np.ndarray
    crew: np.ndarray  # index into CREWS
    asset: np.ndarray  # index into the asset table
    created: np.ndarray
    scheduled: np.ndarray  # when it was scheduled, or -1
    scheduled_date: np.ndarray  # planned work day (clock seconds of its midnight)
    finished: np.ndarray  # completed or cancelled at
    cancelled: np.ndarray
    labor_hours: np.ndarray
    material_cost: np.ndarray
    # defects
    orphan_crew: np.ndarray
    completed_early_by: np.ndarray  # recorded completed_at is this many seconds before created_at; 0 = sound
    bad_amount: np.ndarray  # replacement material cost, NaN = sound

    def __len__(self) -> int:
        return len(self.created)


def plan_month(ctx: GenContext, month: dt.date, requests: crm311.MonthPlan, request_base: int) -> MonthOrders:
    rng = ctx.rng("public_works", "work_orders", month.isoformat())
    codes = np.asarray(crm311.CODES)[requests.type_idx]
    pw_type = np.full(len(requests), -1)
    for code, work in FROM_SERVICE.items():
        pw_type[codes == code] = W[work]
    u = rng.random(len(requests))
    share = np.zeros(len(requests))
    for code, p in WO_SHARE.items():
        share[codes == code] = p
    linked = (pw_type >= 0) & (
        ((requests.resolution == crm311.RESOLVED) & (u < share)) | ((requests.resolution == crm311.NO_ISSUE) & (u < NO_ISSUE_WO_SHARE))
    )
    src = np.flatnonzero(linked)
    book = address_book(ctx.seed)
    req, close = requests.requested[src], requests.close[src]
    span = close - req
    created_a = req + np.minimum(span * rng.uniform(0.02, 0.2, len(src)), 8 * HOUR).astype(np.int64)
    finished_a = close - np.minimum(span * 0.02, 20 * MINUTE).astype(np.int64)
    cancelled_a = requests.resolution[src] == crm311.NO_ISSUE

    # proactive orders: crews' own patrols on weekdays
    days = [d for d in month_days(month) if d.weekday() < 5]
    per_day = rng.poisson(PROACTIVE_PER_WEEKDAY * ctx.scale, len(days))
    day_start = np.repeat(np.asarray([seconds(d) for d in days], dtype=np.int64), per_day)
    n_pro = len(day_start)
    type_b = rng.choice(len(WORK_TYPES), size=n_pro, p=PROACTIVE_MIX)
    created_b = day_start + 7 * HOUR + rng.integers(0, 9 * HOUR, n_pro)
    finished_b = created_b + (PROACTIVE_DAYS[type_b] * DAY * rng.lognormal(0, 0.7, n_pro)).astype(np.int64) + HOUR
    cancelled_b = rng.random(n_pro) < PROACTIVE_CANCELLED

    work_type = np.concatenate([pw_type[src], type_b]).astype(np.int64)
    district = np.concatenate([book.district_idx[requests.address_idx[src]], rng.integers(0, len(DISTRICTS), n_pro)])
    created = np.concatenate([created_a, created_b])
    finished = np.concatenate([finished_a, finished_b])
    cancelled = np.concatenate([cancelled_a, cancelled_b])
    number = np.concatenate([request_base + src, np.full(n_pro, -1)])
    n = len(created)
    has_sched = (rng.random(n) < SCHEDULED_SHARE[work_type]) & ~cancelled
    scheduled = np.where(has_sched, created + ((finished - created) * rng.uniform(0.05, 0.5, n)).astype(np.int64), -1)
    # the planned day is usually the day the work was done; sometimes it slipped a few days
    finish_day = finished - finished % DAY
    slip = np.where(rng.random(n) < 0.25, rng.integers(1, 4, n), 0) * DAY
    scheduled_date = np.maximum(finish_day - slip, scheduled - scheduled % DAY)
    labor = np.where(cancelled, 0.5, np.maximum(0.25, np.round(LABOR_HOURS[work_type] * rng.lognormal(0, 0.5, n) * 4) / 4))
    material = np.where(cancelled, 0.0, np.round(MATERIAL_COST[work_type] * rng.lognormal(0, 0.5, n), 2))
    asset = _assets(ctx.seed, ctx.scale).pick(rng, ASSET_FOR_WORK[work_type], district)
    crew = crew_for(work_type, district)

    drng = ctx.rng("public_works", "defects", month.isoformat())
    dirty = not ctx.clean
    orphan = dirty & (drng.random(n) < ORPHAN_KEY_RATE)
    early = dirty & ~cancelled & (drng.random(n) < CLOSED_BEFORE_OPENED_RATE)
    completed_early_by = np.where(early, drng.integers(HOUR, 2 * DAY, n), 0)
    bad = dirty & ~cancelled & (drng.random(n) < NEGATIVE_AMOUNT_RATE)
    bad_amount = np.where(bad, np.where(drng.random(n) < 0.5, -material, np.round(material * 10_000 + 1.5e6, 2)), np.nan)

    order = np.lexsort((number, created))
    return MonthOrders(
        month, number[order], work_type[order], crew[order], asset[order], created[order], scheduled[order],
        scheduled_date[order], finished[order], cancelled[order], labor[order], material[order], orphan[order],
        completed_early_by[order], bad_amount[order],
    )  # fmt: skip


def order_ids(month: dt.date, ranks: np.ndarray) -> np.ndarray:
    """``WO-YYMM-NNNNNN``: the month the order belongs to, then its rank within the month."""
    return format_ids(f"WO-{month:%y%m}-", np.asarray(ranks) + 1, 6)


def _state(plan: MonthOrders, idx: np.ndarray, at: int) -> list:
    """status, scheduled_date, completed_at, labor_hours, material_cost, updated_at of orders ``idx`` at ``at``."""
    done = plan.finished[idx] <= at
    sched = (plan.scheduled[idx] >= 0) & (plan.scheduled[idx] <= at)
    cancelled = plan.cancelled[idx]
    status = np.where(done, np.where(cancelled, "cancelled", "completed"), np.where(sched, "scheduled", "open"))
    completed = np.where(plan.completed_early_by[idx] > 0, plan.created[idx] - plan.completed_early_by[idx], plan.finished[idx])
    material = np.where(np.isnan(plan.bad_amount[idx]), plan.material_cost[idx], plan.bad_amount[idx])
    updated = np.where(done, plan.finished[idx], np.where(sched, plan.scheduled[idx], plan.created[idx]))
    return [
        status.tolist(),
        nullable(date_text(plan.scheduled_date[idx]), sched | (done & (plan.scheduled[idx] >= 0))),
        nullable(naive_text(completed), done & ~cancelled),
        nullable(plan.labor_hours[idx], done),
        nullable(material, done),
        naive_text(updated).tolist(),
    ]


def _rows(ctx: GenContext, plan: MonthOrders, idx: np.ndarray, at: int) -> list:
    assets = _assets(ctx.seed, ctx.scale)
    crew_ids = np.asarray([c[0] for c in CREWS])[plan.crew[idx]]
    crew_ids = np.where(plan.orphan_crew[idx], RETIRED_CREW, crew_ids)
    state = _state(plan, idx, at)
    linked = plan.request_number[idx] >= 0
    return [
        order_ids(plan.month, idx).tolist(),
        nullable(crm311.request_id(np.maximum(plan.request_number[idx], 0)), linked),
        assets.asset_id[plan.asset[idx]].tolist(),
        np.asarray(WORK_TYPES)[plan.work_type[idx]].tolist(),
        crew_ids.tolist(),
        state[0],
        naive_text(plan.created[idx]).tolist(),
        *state[1:],
    ]


def _record_defects(ctx: GenContext, plan: MonthOrders, new: np.ndarray, finishing: np.ndarray) -> None:
    if ctx.clean:
        return
    dataset = f"{SYSTEM}.work_orders"
    if (ids := order_ids(plan.month, new[plan.orphan_crew[new]])).size:
        ctx.defects.add("orphan_key", dataset, ids.tolist(), f"crew_id {RETIRED_CREW} is not in the crews table")
    if (ids := order_ids(plan.month, finishing[plan.completed_early_by[finishing] > 0])).size:
        ctx.defects.add("closed_before_opened", dataset, ids.tolist(), "completed_at earlier than created_at")
    if (ids := order_ids(plan.month, finishing[~np.isnan(plan.bad_amount[finishing])])).size:
        ctx.defects.add("negative_amount", dataset, ids.tolist(), "material_cost negative or absurd (> $1M)")


def _write_window(ctx: GenContext, conn, plan: MonthOrders, after: int, upto: int, open_ranks: np.ndarray | None) -> None:
    new = np.flatnonzero((plan.created > after) & (plan.created <= upto))
    changing = np.empty(0, dtype=np.int64)
    if open_ranks is not None and len(open_ranks):
        old = open_ranks[open_ranks < len(plan)]
        moves = ((plan.finished[old] > after) & (plan.finished[old] <= upto)) | ((plan.scheduled[old] > after) & (plan.scheduled[old] <= upto))
        changing = old[moves]
    for part in slices(new):
        ctx.count(f"{SYSTEM}.work_orders", insert(conn, "work_orders", WO_COLUMNS, _rows(ctx, plan, part, upto)))
    for part in slices(changing):
        update(conn, "work_orders", "work_order_id", STATE_COLUMNS, zip(*_state(plan, part, upto), order_ids(plan.month, part).tolist()))
    touched = np.concatenate([new, changing])
    _record_defects(ctx, plan, new, touched[(plan.finished[touched] > after) & (plan.finished[touched] <= upto)])


def _write_reference(ctx: GenContext, conn) -> None:
    rng = ctx.rng("public_works", "crews")
    sizes = rng.integers(3, 8, len(CREWS))
    supervisors = people.names(rng, len(CREWS))
    cols = [[c[0] for c in CREWS], [c[1] for c in CREWS], [c[2] for c in CREWS], sizes.tolist(), supervisors.tolist()]
    ctx.count(f"{SYSTEM}.crews", insert(conn, "crews", ["crew_id", "crew_name", "district", "crew_size", "supervisor_name"], cols))
    a = _assets(ctx.seed, ctx.scale)
    cols = [a.asset_id, np.asarray(ASSET_TYPES)[a.type_idx], a.street, np.asarray(DISTRICTS)[a.district_idx], a.lat, a.lon, a.installed_year]
    ctx.count(f"{SYSTEM}.assets", insert(conn, "assets", ["asset_id", "asset_type", "street_name", "district", "lat", "lon", "installed_year"], cols))


def generate(ctx: GenContext) -> None:
    upto = end_of_day(ctx.as_of)
    with bulk_load(ctx.path(*DATABASE), SCHEMA, INDEXES) as conn:
        _write_reference(ctx, conn)
        request_base = 1
        for month in month_starts(ctx.start, ctx.as_of):
            requests = crm311.plan_month(ctx, month)
            _write_window(ctx, conn, plan_month(ctx, month, requests, request_base), -1, upto, None)
            conn.commit()
            request_base += len(requests)


def advance(ctx: GenContext, first: dt.date, last: dt.date) -> None:
    after, upto = end_of_day(first - dt.timedelta(days=1)), end_of_day(last)
    with open_store(ctx.path(*DATABASE)) as conn, open_store(ctx.path(*crm311.DATABASE)) as crm:
        open_ids = [r[0] for r in conn.execute("SELECT work_order_id FROM work_orders WHERE status IN ('open', 'scheduled')")]
        by_month: dict[dt.date, list[int]] = {}
        for wo in open_ids:  # WO-YYMM-NNNNNN
            by_month.setdefault(dt.date(2000 + int(wo[3:5]), int(wo[5:7]), 1), []).append(int(wo[8:]) - 1)
        # orders are opened up to 8 hours after their request, so the day before `first` can still add some
        months = sorted(set(by_month) | set(month_starts(first - dt.timedelta(days=1), last)))
        for month in months:
            requests = crm311.plan_month(ctx, month)
            request_base = crm311.first_request_number(crm, month) or 0  # 0: the month has no requests yet, so no linked orders
            plan = plan_month(ctx, month, requests, request_base)
            _write_window(ctx, conn, plan, after, upto, np.asarray(sorted(by_month.get(month, [])), dtype=np.int64))
