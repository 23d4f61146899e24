"""Fire computer-aided dispatch (``fire/cad.sqlite``): stations and incidents with their response timeline.

Each incident runs alarm → dispatch (call processing) → en route (turnout, ~60–90 s) → arrival
(travel, ~4–6 min) → cleared. Turnout is faster for priority 1 and slower at night; travel depends
on the first-due station's district (two stations are planted slow: one on turnout, one on travel).
Some runs are cancelled en route (no arrival). As in the CRM, each month is planned whole from its
own random stream and cut at ``as_of``; incident numbers follow alarm time.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np

from demo_city.clock import DAY, HOUR, MINUTE, end_of_day, month_days, month_starts, naive_text, nullable, seconds
from demo_city.core import GenContext
from demo_city.places import address_book
from demo_city.record_ids import format_ids
from demo_city.reference import DISTRICTS
from demo_city.sqlite_store import bulk_load, first_number_in_month, insert, open_store, slices, update

SYSTEM = "fire_cad"
DATABASE = ("fire", "cad.sqlite")
DAILY_INCIDENTS = 12.3  # at scale 1: ~15k incidents over the default history

# station id, name, district, turnout factor, median travel minutes
STATIONS = [
    ("STA-01", "Station 1 (Downtown)", "central", 0.95, 3.9),
    ("STA-02", "Station 2 (Midtown)", "central", 1.0, 4.2),
    ("STA-03", "Station 3 (Old Fourth)", "central", 1.0, 4.4),
    ("STA-04", "Station 4 (Northgate)", "north", 1.0, 4.8),
    ("STA-05", "Station 5 (Highland)", "north", 0.97, 5.1),
    ("STA-06", "Station 6 (Ridgeview)", "north", 1.02, 5.6),
    ("STA-07", "Station 7 (Southside)", "south", 1.22, 4.9),  # slow turnout: the old station with a long walk to the bay
    ("STA-08", "Station 8 (Lakewood)", "south", 1.0, 5.4),
    ("STA-09", "Station 9 (Eastlake)", "east", 0.98, 4.7),
    ("STA-10", "Station 10 (Kirkwood)", "east", 1.0, 5.2),
    ("STA-11", "Station 11 (Westview)", "west", 1.0, 6.1),  # long travel: the largest first-due area
    ("STA-12", "Station 12 (Cascade)", "west", 1.03, 5.3),
]
STATION_DISTRICT = np.asarray([DISTRICTS.index(s[2]) for s in STATIONS])
TURNOUT_FACTOR = np.asarray([s[3] for s in STATIONS])
TRAVEL_MINUTES = np.asarray([s[4] for s in STATIONS])

INCIDENT_TYPES = ["structure_fire", "medical", "vehicle_fire", "alarm", "hazmat", "other"]
TYPE_SHARE = np.asarray([0.06, 0.62, 0.05, 0.14, 0.03, 0.10])
_SEASON = np.asarray([  # Jan..Dec per type; heating season fires, summer brush and medical
    [1.5, 1.4, 1.2, 1.0, 0.8, 0.7, 0.7, 0.7, 0.8, 0.9, 1.1, 1.4],
    [1.05, 1.0, 0.95, 0.95, 1.0, 1.05, 1.1, 1.05, 1.0, 0.95, 0.95, 1.0],
    [1.0] * 12,
    [1.1, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.1],
    [1.0] * 12,
    [0.7, 0.7, 0.9, 1.1, 1.2, 1.3, 1.4, 1.3, 1.1, 0.9, 0.8, 0.7],
])
SEASON = _SEASON / _SEASON.mean(axis=1, keepdims=True)
# Priority (1 = lights and sirens, most urgent) distribution per type
PRIORITY_P = np.asarray([[1, 0, 0], [0.35, 0.5, 0.15], [0, 1, 0], [0, 0.3, 0.7], [1, 0, 0], [0, 0.4, 0.6]])
_HOURS = np.asarray([2.5, 2, 1.8, 1.6, 1.6, 2, 3, 4, 5, 5.5, 5.8, 6, 6, 6, 6, 6, 6.2, 6.4, 6.4, 6, 5.5, 4.8, 4, 3.2])
HOUR_CDF = np.cumsum(_HOURS) / _HOURS.sum()
CALL_SECONDS = np.asarray([45.0, 60.0, 90.0])  # alarm -> dispatch, by priority
TURNOUT_SECONDS = np.asarray([62.0, 72.0, 84.0])  # dispatch -> en route, by priority
NIGHT_TURNOUT_EXTRA = 15.0  # crews asleep between midnight and six
TRAVEL_PRIORITY = np.asarray([1.0, 1.05, 1.2])
ON_SCENE_MINUTES = np.asarray([95.0, 28.0, 40.0, 15.0, 120.0, 30.0])
CANCELLED_P = np.asarray([0.01, 0.03, 0.02, 0.12, 0.02, 0.05])  # recalled before arrival

FUTURE_DATE_RATE = 0.003  # arrival stamped by a terminal whose clock ran a decade ahead

SCHEMA = """
CREATE TABLE stations(station_id TEXT PRIMARY KEY, station_name TEXT, district TEXT);
CREATE TABLE incidents(incident_id TEXT PRIMARY KEY, incident_type TEXT, priority INTEGER, station_id TEXT, district TEXT,
    address TEXT, alarm_time TEXT, dispatch_time TEXT, enroute_time TEXT, arrival_time TEXT, cleared_time TEXT, updated_at TEXT);
"""
INDEXES = """
CREATE INDEX incidents_updated ON incidents(updated_at);
CREATE INDEX incidents_alarm ON incidents(alarm_time);
"""
COLUMNS = ["incident_id", "incident_type", "priority", "station_id", "district", "address", "alarm_time",
           "dispatch_time", "enroute_time", "arrival_time", "cleared_time", "updated_at"]  # fmt: skip
STATE_COLUMNS = ["dispatch_time", "enroute_time", "arrival_time", "cleared_time", "updated_at"]


def incident_id(numbers: np.ndarray) -> np.ndarray:
    return format_ids("FI-", numbers, 7)


@dataclass
class MonthIncidents:
    type_idx: np.ndarray
    priority: np.ndarray  # 1..3
    station: np.ndarray
    address_idx: np.ndarray
    alarm: np.ndarray
    dispatch: np.ndarray
    enroute: np.ndarray
    arrival: np.ndarray  # -1: cancelled en route
    cleared: np.ndarray
    future_arrival: np.ndarray  # defect: arrival recorded ten years ahead

    def __len__(self) -> int:
        return len(self.alarm)


def plan_month(ctx: GenContext, month: dt.date) -> MonthIncidents:
    rng = ctx.rng("fire", "incidents", month.isoformat())
    days = month_days(month)
    lam = DAILY_INCIDENTS * ctx.scale * TYPE_SHARE * SEASON[:, month.month - 1]
    counts = rng.poisson(np.tile(lam, (len(days), 1)))
    day_idx = np.repeat(np.repeat(np.arange(len(days)), len(INCIDENT_TYPES)), counts.ravel())
    type_idx = np.repeat(np.tile(np.arange(len(INCIDENT_TYPES)), len(days)), counts.ravel())
    n = len(type_idx)
    hour = np.searchsorted(HOUR_CDF, rng.random(n), side="right").clip(0, 23)
    alarm = seconds(month) + day_idx * DAY + hour * HOUR + rng.integers(0, HOUR, n)
    order = np.lexsort((type_idx, alarm))
    type_idx, alarm, hour = type_idx[order], alarm[order], hour[order]

    cum = np.cumsum(PRIORITY_P[type_idx], axis=1)
    priority = (rng.random(n)[:, None] > cum).sum(axis=1).clip(0, 2)
    book = address_book(ctx.seed)
    address_idx = rng.integers(0, len(book.address_id), n)
    district = book.district_idx[address_idx]
    # first-due station: one of the stations in the incident's district
    station = np.empty(n, dtype=np.int64)
    pick = rng.random(n)
    for d in range(len(DISTRICTS)):
        sel = district == d
        local = np.flatnonzero(STATION_DISTRICT == d)
        station[sel] = local[(pick[sel] * len(local)).astype(int)]

    call = CALL_SECONDS[priority] * rng.lognormal(0, 0.35, n)
    night = hour < 6
    turnout = (TURNOUT_SECONDS[priority] * TURNOUT_FACTOR[station] + night * NIGHT_TURNOUT_EXTRA) * rng.lognormal(0, 0.25, n)
    travel = TRAVEL_MINUTES[station] * TRAVEL_PRIORITY[priority] * MINUTE * rng.lognormal(0, 0.3, n)
    on_scene = ON_SCENE_MINUTES[type_idx] * MINUTE * rng.lognormal(0, 0.5, n)
    cancelled = rng.random(n) < CANCELLED_P[type_idx]
    dispatch = alarm + np.maximum(call, 10).astype(np.int64)
    enroute = dispatch + np.maximum(turnout, 15).astype(np.int64)
    arrival = enroute + np.maximum(travel, 45).astype(np.int64)
    cleared = np.where(cancelled, enroute + rng.integers(MINUTE, 6 * MINUTE, n), arrival + np.maximum(on_scene, 120).astype(np.int64))
    arrival = np.where(cancelled, -1, arrival)

    drng = ctx.rng("fire", "defects", month.isoformat())
    future = ~cancelled & (drng.random(n) < FUTURE_DATE_RATE) & (not ctx.clean)
    return MonthIncidents(type_idx, priority + 1, station, address_idx, alarm, dispatch, enroute, arrival, cleared, future)


def _decade_ahead(text: np.ndarray) -> np.ndarray:
    years = np.strings.slice(text, 0, 4).astype(int) + 10
    return np.strings.add(years.astype(str), np.strings.slice(text, 4, None))


def _state(plan: MonthIncidents, idx: np.ndarray, at: int) -> list:
    """dispatch, enroute, arrival, cleared times and updated_at of incidents ``idx`` as known at ``at``."""
    out, latest = [], plan.alarm[idx]
    for name in ("dispatch", "enroute", "arrival", "cleared"):
        when = getattr(plan, name)[idx]
        seen = (when >= 0) & (when <= at)
        text = naive_text(when)
        if name == "arrival":
            text = np.where(plan.future_arrival[idx], _decade_ahead(text), text)
        out.append(nullable(text, seen))
        latest = np.where(seen, np.maximum(latest, when), latest)
    return out + [naive_text(latest).tolist()]


def _rows(ctx: GenContext, plan: MonthIncidents, idx: np.ndarray, base: int, at: int) -> list:
    book = address_book(ctx.seed)
    station = plan.station[idx]
    return [
        incident_id(base + idx).tolist(),
        np.asarray(INCIDENT_TYPES)[plan.type_idx[idx]].tolist(),
        plan.priority[idx].tolist(),
        np.asarray([s[0] for s in STATIONS])[station].tolist(),
        np.asarray(DISTRICTS)[STATION_DISTRICT[station]].tolist(),
        book.address[plan.address_idx[idx]].tolist(),
        naive_text(plan.alarm[idx]).tolist(),
        *_state(plan, idx, at),
    ]


def _write_window(ctx: GenContext, conn, plan: MonthIncidents, base: int, after: int, upto: int, open_numbers: np.ndarray | None) -> None:
    new = np.flatnonzero((plan.alarm > after) & (plan.alarm <= upto))
    changing = np.empty(0, dtype=np.int64)
    if open_numbers is not None:
        old = np.flatnonzero(plan.alarm <= after)
        old = old[np.isin(base + old, open_numbers)]
        events = np.stack([plan.dispatch[old], plan.enroute[old], plan.arrival[old], plan.cleared[old]])
        changing = old[((events > after) & (events <= upto)).any(axis=0)]
    for part in slices(new):
        ctx.count(f"{SYSTEM}.incidents", insert(conn, "incidents", COLUMNS, _rows(ctx, plan, part, base, upto)))
    for part in slices(changing):
        update(conn, "incidents", "incident_id", STATE_COLUMNS, zip(*_state(plan, part, upto), incident_id(base + part).tolist()))
    if not ctx.clean:
        touched = np.concatenate([new, changing])
        arrived = touched[plan.future_arrival[touched] & (plan.arrival[touched] > after) & (plan.arrival[touched] <= upto)]
        if len(arrived):
            ctx.defects.add("future_date", f"{SYSTEM}.incidents", incident_id(base + arrived).tolist(), "arrival_time after as_of (terminal clock a decade ahead)")


def generate(ctx: GenContext) -> None:
    upto = end_of_day(ctx.as_of)
    with bulk_load(ctx.path(*DATABASE), SCHEMA, INDEXES) as conn:
        cols = [[s[0] for s in STATIONS], [s[1] for s in STATIONS], [s[2] for s in STATIONS]]
        ctx.count(f"{SYSTEM}.stations", insert(conn, "stations", ["station_id", "station_name", "district"], cols))
        base = 1
        for month in month_starts(ctx.start, ctx.as_of):
            plan = plan_month(ctx, month)
            _write_window(ctx, conn, plan, base, -1, upto, None)
            conn.commit()
            base += len(plan)


def advance(ctx: GenContext, first: dt.date, last: dt.date) -> None:
    after, upto = end_of_day(first - dt.timedelta(days=1)), end_of_day(last)
    with open_store(ctx.path(*DATABASE)) as conn:
        rows = conn.execute("SELECT incident_id, substr(alarm_time, 1, 7) FROM incidents WHERE cleared_time IS NULL").fetchall()
        open_numbers = np.asarray(sorted(int(r[0][3:]) for r in rows), dtype=np.int64)
        months = sorted({dt.date.fromisoformat(r[1] + "-01") for r in rows} | set(month_starts(first, last)))
        (top,) = conn.execute("SELECT max(CAST(substr(incident_id, 4) AS INTEGER)) FROM incidents").fetchone()
        next_free = (top or 0) + 1
        for month in months:
            plan = plan_month(ctx, month)
            base = first_number_in_month(conn, "incidents", "incident_id", "FI-", "alarm_time", month)
            base = next_free if base is None else base
            _write_window(ctx, conn, plan, base, after, upto, open_numbers)
            next_free = max(next_free, base + len(plan))
