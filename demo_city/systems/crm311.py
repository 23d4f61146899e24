"""311 CRM (``crm311/crm.sqlite``): services, service requests and their status history (Open311 GeoReport v2).

Every calendar month is drawn whole from its own random stream (``ctx.rng("crm311", "requests", month)``):
when each request arrives, when it will close, every status update on the way. What a store holds at
a moment is that plan cut at the moment, so ``generate`` (cut at ``as_of``) followed by ``advance``
(cut later) gives exactly the store a longer ``generate`` would, and history never moves.

Realism: seasonality per service type (potholes in late winter and spring, noise and rodents in
summer), fewer requests on weekends and holidays, per-department on-time rates (Public Works climbing
from ~57% to ~95% over the history), a long tail of requests stuck open for months, repeat requests
at the same address within 30 days, caller contact (PII) for most requests.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np

from demo_city import people, rollouts
from demo_city.clock import DAY, HOUR, MINUTE, end_of_day, month_days, month_starts, nullable, offset_text, seconds
from demo_city.core import GenContext
from demo_city.places import address_book
from demo_city.record_ids import format_ids
from demo_city.reference import DEPARTMENTS, IMPROVING_DEPARTMENT, SERVICE_TYPES
from demo_city.sqlite_store import bulk_load, first_number_in_month, insert, open_store, slices, update

SYSTEM = "crm311"
DATABASE = ("crm311", "crm.sqlite")
DAILY_REQUESTS = 70.0  # at scale 1, before weekday and holiday effects: ~85k requests over the default history

CODES = list(SERVICE_TYPES)
NAMES = np.asarray([SERVICE_TYPES[c][0] for c in CODES])
AGENCY = np.asarray([SERVICE_TYPES[c][1] for c in CODES])
SLA_DAYS = np.asarray([SERVICE_TYPES[c][2] for c in CODES], dtype=float)
SHARE = np.asarray([SERVICE_TYPES[c][3] for c in CODES]) / sum(SERVICE_TYPES[c][3] for c in CODES)
T = {code: i for i, code in enumerate(CODES)}

# Monthly volume multipliers Jan..Dec (normalised to mean 1 below)
_SEASON = {
    "POTHOLE": [1.5, 2.1, 2.3, 1.9, 1.2, 0.8, 0.6, 0.6, 0.6, 0.7, 0.8, 1.1],  # freeze-thaw
    "STREETLIGHT": [1.3, 1.2, 1.0, 0.9, 0.8, 0.7, 0.7, 0.8, 0.9, 1.1, 1.3, 1.4],  # long nights
    "NOISE": [0.6, 0.6, 0.8, 0.9, 1.1, 1.4, 1.6, 1.5, 1.2, 0.9, 0.8, 0.7],  # windows open
    "RODENT": [0.6, 0.6, 0.8, 1.0, 1.2, 1.4, 1.5, 1.4, 1.2, 0.9, 0.7, 0.6],
    "GRAFFITI": [0.7, 0.7, 0.9, 1.1, 1.2, 1.2, 1.2, 1.2, 1.1, 1.0, 0.9, 0.8],
    "TREE_DOWN": [0.8, 0.8, 1.0, 1.1, 1.1, 1.3, 1.3, 1.2, 1.2, 1.0, 0.7, 0.7],  # storm season
    "WATER_MAIN": [1.8, 1.6, 1.1, 0.8, 0.7, 0.7, 0.8, 0.8, 0.8, 0.8, 1.0, 1.6],  # freezes
    "ILLEGAL_DUMPING": [0.8, 0.8, 1.0, 1.1, 1.1, 1.1, 1.1, 1.1, 1.0, 1.0, 0.9, 1.0],
    "MISSED_TRASH": [1.2, 0.9, 0.9, 1.0, 1.0, 1.0, 1.1, 1.0, 1.0, 1.0, 0.9, 1.1],  # after holidays
}
SEASON = np.ones((len(CODES), 12))
for _code, _factors in _SEASON.items():
    SEASON[T[_code]] = np.asarray(_factors) / np.mean(_factors)

# Weekday multipliers Mon..Sun: people report on weekdays; noise is a weekend-night problem
_WEEKDAY = np.asarray([1.2, 1.12, 1.08, 1.05, 1.0, 0.8, 0.75])
_NOISE_WEEKDAY = np.asarray([0.8, 0.8, 0.85, 0.95, 1.2, 1.45, 1.1])
WEEKDAY = np.tile(_WEEKDAY / _WEEKDAY.mean(), (len(CODES), 1))
WEEKDAY[T["NOISE"]] = _NOISE_WEEKDAY / _NOISE_WEEKDAY.mean()
HOLIDAY_FACTOR = 0.55

# Hour-of-day profiles: daytime reports, and late-evening noise
_DAY_HOURS = np.asarray([1, 0.6, 0.4, 0.3, 0.4, 0.8, 2, 4, 7, 9, 9, 8.5, 8, 8, 8, 7.5, 7, 6, 5, 4, 3.5, 3, 2, 1.5])
_NIGHT_HOURS = np.asarray([6, 5, 3.5, 2, 1, 0.5, 0.4, 0.5, 0.8, 1, 1, 1.2, 1.3, 1.4, 1.5, 1.7, 2, 2.5, 3.5, 5, 6.5, 8, 9, 8])
HOUR_CDF = {False: np.cumsum(_DAY_HOURS) / _DAY_HOURS.sum(), True: np.cumsum(_NIGHT_HOURS) / _NIGHT_HOURS.sum()}

# Share of requests closed by expected_datetime, by department (Public Works: see pw_on_time)
ON_TIME = {"san": 0.86, "parks": 0.74, "wat": 0.81, "trn": 0.9, "pol": 0.68, "hlth": 0.63, "ce": 0.6, "pw": 0.75}
ON_TIME_BY_TYPE = np.asarray([ON_TIME[a] for a in AGENCY])
PW_ON_TIME_FROM, PW_ON_TIME_TO, PW_RAMP_DAYS = 0.56, 0.955, 1150
STUCK_SHARE = 0.03  # of late requests: forgotten for months (the old open requests every CRM has)
REPEAT_SHARE = 0.07  # requests that repeat one of the same type at the same address in the last 30 days
MID_UPDATE_SHARE = 0.6  # requests that get an "assigned" update before closing
SHIFT_START, SHIFT_END = 7 * HOUR, 19 * HOUR  # crews close requests during their shifts...
ROUND_THE_CLOCK = [T[c] for c in ("NOISE", "WATER_MAIN", "SEWER_BACKUP", "TRAFFIC_SIGNAL", "TREE_DOWN")]  # ...except emergencies

# How a request ends: the work was done, it duplicated another, nothing found, referred elsewhere
RESOLVED, DUPLICATE, NO_ISSUE, REFERRED = 0, 1, 2, 3
RESOLUTION_P = [0.84, 0.05, 0.08, 0.03]
_DONE_NOTES = {
    "POTHOLE": "Pothole patched", "STREETLIGHT": "Streetlight repaired", "SIGN": "Sign replaced",
    "SIDEWALK": "Sidewalk section repaired", "MISSED_TRASH": "Collection completed", "ILLEGAL_DUMPING": "Debris removed",
    "GRAFFITI": "Graffiti removed", "TREE_DOWN": "Tree cleared from right of way", "WATER_MAIN": "Main repaired and service restored",
    "SEWER_BACKUP": "Sewer line cleared", "TRAFFIC_SIGNAL": "Signal timing restored", "ABANDONED_VEHICLE": "Vehicle tagged and towed",
    "NOISE": "Officer responded; party advised", "RODENT": "Area inspected and baited", "VACANT_PROPERTY": "Referred to vacant property case",
}  # fmt: skip
CLOSE_NOTES = np.asarray(
    [[_DONE_NOTES[c], "Duplicate of an existing request", "Inspected; no issue found", "Referred to another agency"] for c in CODES]
)
MID_NOTES = np.asarray([f"Assigned to {DEPARTMENTS[a]}" for a in AGENCY])

_DESCRIPTIONS = {
    "POTHOLE": ["Large pothole in the travel lane", "Pothole near the curb, cars swerving", "Several potholes along the block", "Deep hole at the intersection"],
    "STREETLIGHT": ["Streetlight out", "Light flickering all night", "Two lights out on this block", "Pole light stays on during the day"],
    "SIGN": ["Stop sign knocked down", "Street name sign missing", "Sign bent and facing the wrong way"],
    "SIDEWALK": ["Sidewalk heaved by tree roots", "Broken sidewalk slab, trip hazard", "Missing section of sidewalk"],
    "MISSED_TRASH": ["Trash not picked up on collection day", "Recycling missed again", "Whole street was skipped"],
    "ILLEGAL_DUMPING": ["Mattress and furniture dumped on the curb", "Tires dumped in the alley", "Construction debris left on the lot"],
    "GRAFFITI": ["Graffiti on the bus shelter", "Tagging on the park wall", "Graffiti on a traffic box"],
    "TREE_DOWN": ["Tree down across the road", "Large limb hanging over the sidewalk", "Tree leaning on power lines"],
    "WATER_MAIN": ["Water gushing from the street", "Water bubbling up through the pavement", "No water pressure, street flooding"],
    "SEWER_BACKUP": ["Sewer backing up into the basement", "Manhole overflowing", "Strong sewer smell from the drain"],
    "TRAFFIC_SIGNAL": ["Signal stuck on red", "Traffic light out at the intersection", "Walk signal not working"],
    "ABANDONED_VEHICLE": ["Car parked for weeks without moving", "Vehicle with flat tires and no plates", "Abandoned truck blocking the alley"],
    "NOISE": ["Loud party next door", "Music playing loudly late at night", "Construction noise before permitted hours"],
    "RODENT": ["Rats seen near the dumpsters", "Rodents in the alley behind the restaurant", "Rat burrows in the yard"],
    "VACANT_PROPERTY": ["Vacant house with broken windows", "Abandoned property, doors open", "Overgrown vacant lot with debris"],
}  # fmt: skip
DESC_TABLE = np.asarray([d for c in CODES for d in _DESCRIPTIONS[c]])
DESC_OFFSET = np.cumsum([0] + [len(_DESCRIPTIONS[c]) for c in CODES])[:-1]
DESC_COUNT = np.asarray([len(_DESCRIPTIONS[c]) for c in CODES])

# Injected defects (ctx.clean turns them off); rates are shares of requests
INVALID_CODE_RATE = 0.003
PII_RATE = 0.005
CLOSED_BEFORE_OPENED_RATE = 0.003
MEDIA_URL = "https://311.riverton.example/media/{}.jpg"
EMAIL_DOMAINS = np.asarray(["example.com", "example.net", "example.org"])

SCHEMA = """
CREATE TABLE services(service_code TEXT PRIMARY KEY, service_name TEXT, description TEXT, metadata INTEGER, type TEXT,
    keywords TEXT, "group" TEXT, agency_responsible TEXT, sla_days REAL);
CREATE TABLE requests(service_request_id TEXT PRIMARY KEY, status TEXT, status_notes TEXT, service_name TEXT,
    service_code TEXT, description TEXT, agency_responsible TEXT, service_notice TEXT, requested_datetime TEXT,
    updated_datetime TEXT, expected_datetime TEXT, closed_datetime TEXT, address TEXT, address_id TEXT, zipcode TEXT,
    lat REAL, long REAL, media_url TEXT, first_name TEXT, last_name TEXT, phone TEXT, email TEXT);
CREATE TABLE request_updates(service_request_id TEXT, updated_datetime TEXT, status TEXT, status_notes TEXT);
"""
INDEXES = """
CREATE INDEX requests_updated ON requests(updated_datetime);
CREATE INDEX requests_requested ON requests(requested_datetime);
CREATE INDEX requests_status ON requests(status);
CREATE INDEX request_updates_request ON request_updates(service_request_id);
"""
REQUEST_COLUMNS = [
    "service_request_id", "status", "status_notes", "service_name", "service_code", "description", "agency_responsible",
    "service_notice", "requested_datetime", "updated_datetime", "expected_datetime", "closed_datetime", "address",
    "address_id", "zipcode", "lat", "long", "media_url", "first_name", "last_name", "phone", "email",
]  # fmt: skip
STATE_COLUMNS = ["status", "status_notes", "updated_datetime", "closed_datetime"]  # what changes on an open request
UPDATE_COLUMNS = ["service_request_id", "updated_datetime", "status", "status_notes"]


def request_id(numbers: np.ndarray) -> np.ndarray:
    return format_ids("SR-", numbers, 7)


def pw_on_time(days_since_start: np.ndarray) -> np.ndarray:
    """Public Works' on-time probability: ~56% at the start of history, ~95% after PW_RAMP_DAYS."""
    x = np.clip(days_since_start / PW_RAMP_DAYS, 0.0, 1.0)
    return PW_ON_TIME_FROM + (PW_ON_TIME_TO - PW_ON_TIME_FROM) * x * x * (3 - 2 * x)


def holidays(year: int) -> set[dt.date]:
    thanksgiving = dt.date(year, 11, 1) + dt.timedelta(days=(3 - dt.date(year, 11, 1).weekday()) % 7 + 21)
    return {dt.date(year, 1, 1), dt.date(year, 7, 4), dt.date(year, 11, 11), dt.date(year, 12, 25), thanksgiving}


@dataclass
class MonthPlan:
    """Every request of one calendar month, sorted by arrival, with its whole planned life."""

    month: dt.date
    type_idx: np.ndarray
    requested: np.ndarray  # clock seconds
    expected: np.ndarray
    close: np.ndarray  # when it really closes (maybe after as_of)
    mid: np.ndarray  # the "assigned" update, or -1
    resolution: np.ndarray
    address_idx: np.ndarray
    description: np.ndarray  # index into DESC_TABLE
    media: np.ndarray
    # caller contact, kept as small codes and spelled out only when rows are written (bounded memory)
    caller: np.ndarray  # (first name index, last name index) per request, -1 where anonymous
    phone: np.ndarray  # phone code (see _phone_text), -1 = none given
    email: np.ndarray  # e-mail code (see _email_text), -1 = none given
    # defects (all False in clean mode)
    bad_code: np.ndarray
    pii_in_description: np.ndarray
    pii_in_notes: np.ndarray
    pii_phone: np.ndarray  # phone code typed into free text, -1: an e-mail address was typed instead
    pii_email: np.ndarray
    closed_early_by: np.ndarray  # the recorded closed_datetime is this many seconds before requested; 0 = sound
    moved: np.ndarray | None = None  # closed sooner by a randomized rollout (demo_city.rollouts)

    def __len__(self) -> int:
        return len(self.requested)


def plan_month(ctx: GenContext, month: dt.date) -> MonthPlan:
    """Draw the month's requests; a pure function of (seed, scale, clean, start, month)."""
    rng = ctx.rng(SYSTEM, "requests", month.isoformat())
    days = month_days(month)
    holiday = holidays(month.year)
    day_factor = np.asarray([HOLIDAY_FACTOR if d in holiday else 1.0 for d in days])
    dow = np.asarray([d.weekday() for d in days])
    lam = DAILY_REQUESTS * ctx.scale * SHARE[None, :] * SEASON[:, month.month - 1][None, :] * WEEKDAY[:, dow].T * day_factor[:, None]
    counts = rng.poisson(lam)
    day_idx = np.repeat(np.repeat(np.arange(len(days)), len(CODES)), counts.ravel())
    type_idx = np.repeat(np.tile(np.arange(len(CODES)), len(days)), counts.ravel()).astype(np.int16)
    n = len(type_idx)

    night = type_idx == T["NOISE"]
    hour = np.empty(n, dtype=np.int64)
    for is_night, cdf in HOUR_CDF.items():
        sel = night == is_night
        hour[sel] = np.searchsorted(cdf, rng.random(sel.sum()), side="right").clip(0, 23)
    requested = seconds(month) + day_idx * DAY + hour * HOUR + rng.integers(0, HOUR, n)
    order = np.lexsort((type_idx, requested))
    type_idx, requested = type_idx[order], requested[order]

    address_idx = rng.integers(0, len(address_book(ctx.seed).address_id), n)
    repeat = rng.random(n) < REPEAT_SHARE
    for t in range(len(CODES)):
        same = np.flatnonzero(type_idx == t)
        if len(same) < 2:
            continue
        pos = np.flatnonzero(repeat[same])
        window_start = np.searchsorted(requested[same], requested[same][pos] - 30 * DAY)
        ok = window_start < pos
        earlier = rng.integers(window_start[ok], pos[ok]) if ok.any() else np.empty(0, dtype=np.int64)
        # chains resolve in time order, so a repeat of a repeat lands on the original address
        for p, e in zip(same[pos[ok]].tolist(), same[earlier].tolist()):
            address_idx[p] = address_idx[e]

    sla = SLA_DAYS[type_idx] * DAY
    expected = requested + sla.astype(np.int64)
    p_on_time = ON_TIME_BY_TYPE[type_idx]
    pw = AGENCY[type_idx] == IMPROVING_DEPARTMENT
    p_on_time[pw] = pw_on_time((requested[pw] - seconds(ctx.start)) / DAY)
    on_time = rng.random(n) < p_on_time
    frac = np.clip(rng.beta(1.6, 1.4, n), 0.01, 0.995)
    late_by = sla * rng.lognormal(np.log(0.5), 0.8, n) + HOUR
    stuck = rng.random(n) < STUCK_SHARE
    late_by[stuck] = rng.uniform(60, 400, stuck.sum()) * DAY
    duration = np.where(on_time, np.maximum(sla * frac, 15 * MINUTE), sla + late_by).astype(np.int64)
    close = _during_shifts(rng, requested + duration, requested, expected, on_time, type_idx)
    # randomized rollouts (demo_city.rollouts): no draw from rng, so nothing else moves
    close, moved = rollouts.apply_effects(type_idx, CODES, requested, close, zipcodes(ctx, address_idx))
    duration = close - requested
    has_mid = rng.random(n) < MID_UPDATE_SHARE
    mid = np.where(has_mid, requested + (duration * rng.uniform(0.1, 0.6, n)).astype(np.int64), -1)
    resolution = rng.choice(len(RESOLUTION_P), size=n, p=RESOLUTION_P).astype(np.int8)

    description = (DESC_OFFSET[type_idx] + rng.integers(0, 1 << 30, n) % DESC_COUNT[type_idx]).astype(np.int16)
    media = rng.random(n) < 0.25
    contact = rng.random(n) < 0.6
    caller = np.stack([rng.integers(0, len(people.FIRST_NAMES), n), rng.integers(0, len(people.LAST_NAMES), n)], axis=1).astype(np.int16)
    phone, email = _phone_codes(rng, n), _email_codes(rng, n)
    has_phone = contact & (rng.random(n) < 0.85)
    has_email = contact & (rng.random(n) < 0.5)

    # Defects come from their own stream, so clean and dirty cities differ only in the defective records
    drng = ctx.rng(SYSTEM, "defects", month.isoformat())
    dirty = not ctx.clean
    bad_code = dirty & (drng.random(n) < INVALID_CODE_RATE)
    pii = dirty & (drng.random(n) < PII_RATE)
    in_notes = drng.random(n) < 0.3
    typed_phone = drng.random(n) < 0.5
    pii_phone, pii_email = _phone_codes(drng, n), _email_codes(drng, n)

    return MonthPlan(
        month=month, type_idx=type_idx, requested=requested, expected=expected, close=close, mid=mid,
        resolution=resolution, address_idx=address_idx.astype(np.int32), description=description, media=media,
        caller=np.where(contact[:, None], caller, -1), phone=np.where(has_phone, phone, -1), email=np.where(has_email, email, -1),
        bad_code=bad_code, pii_in_description=pii & ~in_notes, pii_in_notes=pii & in_notes,
        pii_phone=np.where(typed_phone, pii_phone, -1), pii_email=pii_email, closed_early_by=_closed_early_by(drng, dirty, n),
        moved=moved,
    )  # fmt: skip


def zipcodes(ctx: GenContext, address_idx: np.ndarray) -> np.ndarray:
    """The ZIP code (service district) of each request's address."""
    return address_book(ctx.seed).zipcode[address_idx]


def _during_shifts(rng, close, requested, expected, on_time, type_idx) -> np.ndarray:
    """Move closings that fall at night into crews' shifts (7:00-19:00), keeping on-time ones on time.

    Emergency services (ROUND_THE_CLOCK) close whenever the work is done.
    """
    n = len(close)
    hour = close % DAY
    night = ((hour < SHIFT_START) | (hour >= SHIFT_END)) & ~np.isin(type_idx, ROUND_THE_CLOCK)
    day = close - hour
    morning = np.where(hour < SHIFT_START, day, day + DAY) + SHIFT_START + rng.integers(0, 90 * MINUTE, n)
    evening = np.where(hour >= SHIFT_END, day, day - DAY) + SHIFT_END - rng.integers(1, 90 * MINUTE, n)
    forward = night & (~on_time | (morning <= expected))
    backward = night & ~forward & (evening > requested + 10 * MINUTE) & (on_time | (evening > expected))
    return np.where(forward, morning, np.where(backward, evening, close))


def _closed_early_by(drng: np.random.Generator, dirty: bool, n: int) -> np.ndarray:
    closed_early = dirty & (drng.random(n) < CLOSED_BEFORE_OPENED_RATE)
    return np.where(closed_early, drng.integers(HOUR, 3 * DAY, n), 0)


AREA_CODES = np.asarray(["404", "470", "678"])


def _phone_codes(rng: np.random.Generator, n: int) -> np.ndarray:
    return (rng.integers(0, 3, n) * 100 + rng.integers(0, 100, n)).astype(np.int16)


def _phone_text(code: np.ndarray) -> np.ndarray:
    """``404-555-0123``: numbers in the 555-01xx block, which North American numbering keeps for fiction."""
    code = np.asarray(code, dtype=np.int64)
    if code.size == 0:
        return np.empty(0, dtype="<U12")
    return np.strings.add(np.strings.add(AREA_CODES[code // 100], "-555-01"), np.strings.zfill((code % 100).astype(str), 2))


def _email_codes(rng: np.random.Generator, n: int) -> np.ndarray:
    return (rng.integers(1, 99, n) * 3 + rng.integers(0, 3, n)).astype(np.int16)


def _email_text(code: np.ndarray, caller: np.ndarray) -> np.ndarray:
    """``first.last42@example.org`` for a caller (name indices) and an e-mail code."""
    code = np.asarray(code, dtype=np.int64)
    if code.size == 0:
        return np.empty(0, dtype="<U40")
    first = np.asarray(people.FIRST_NAMES)[caller[:, 0]]
    last = np.asarray(people.LAST_NAMES)[caller[:, 1]]
    local = np.strings.add(np.strings.lower(np.strings.add(np.strings.add(first, "."), last)), (code // 3).astype(str))
    return np.strings.add(np.strings.add(local, "@"), EMAIL_DOMAINS[code % 3])


def _contact_columns(plan: MonthPlan, idx: np.ndarray) -> list[list]:
    """first_name, last_name, phone, email of requests ``idx`` (None where not given)."""
    caller = plan.caller[idx]
    named = caller[:, 0] >= 0
    first = nullable(np.asarray(people.FIRST_NAMES)[np.maximum(caller[:, 0], 0)], named)
    last = nullable(np.asarray(people.LAST_NAMES)[np.maximum(caller[:, 1], 0)], named)
    phone = nullable(_phone_text(np.maximum(plan.phone[idx], 0)), plan.phone[idx] >= 0)
    email = nullable(_email_text(np.maximum(plan.email[idx], 0), np.maximum(caller, 0)), plan.email[idx] >= 0)
    return [first, last, phone, email]


def _pii_text(plan: MonthPlan, idx: np.ndarray) -> np.ndarray:
    """What the caller typed into free text: their phone number or e-mail address."""
    caller = plan.caller[idx]
    as_caller = np.where(caller >= 0, caller, np.stack([idx % len(people.FIRST_NAMES), idx % len(people.LAST_NAMES)], axis=1))
    phone = np.strings.add(np.strings.add(" Please call me at ", _phone_text(np.maximum(plan.pii_phone[idx], 0))), ".")
    email = np.strings.add(np.strings.add(" Contact me at ", _email_text(plan.pii_email[idx], as_caller)), ".")
    return np.where(plan.pii_phone[idx] >= 0, phone, email)


def _invalid_code(type_idx: np.ndarray) -> np.ndarray:
    """Legacy codes from the CRM's previous configuration: not in the services table."""
    return np.strings.add(np.strings.add(np.strings.upper(AGENCY[type_idx]), "-"), np.strings.slice(np.asarray(CODES)[type_idx], 0, 4))


# ---------------------------------------------------------------- a month's plan cut at a moment


def _request_rows(ctx: GenContext, plan: MonthPlan, idx: np.ndarray, base: int, at: int) -> list:
    """Full rows (column lists in REQUEST_COLUMNS order) of requests ``idx`` as they stand at ``at``."""
    book = address_book(ctx.seed)
    t = plan.type_idx[idx]
    ids = request_id(base + idx)
    status, notes, updated, closed_text, is_closed = _state(plan, idx, at)
    codes = np.where(plan.bad_code[idx], _invalid_code(t), np.asarray(CODES)[t])
    description = DESC_TABLE[plan.description[idx]]
    if plan.pii_in_description[idx].any():
        description = np.where(plan.pii_in_description[idx], np.strings.add(description, _pii_text(plan, idx)), description)
    media = nullable(np.asarray([MEDIA_URL.format(i) for i in ids.tolist()]), plan.media[idx]) if len(idx) else []
    a = plan.address_idx[idx]
    return [
        ids.tolist(), status, notes, NAMES[t].tolist(), codes.tolist(), description.tolist(), AGENCY[t].tolist(),
        [None] * len(idx), offset_text(plan.requested[idx]).tolist(), updated, offset_text(plan.expected[idx]).tolist(),
        closed_text, book.address[a].tolist(), book.address_id[a].tolist(), book.zipcode[a].tolist(), book.lat[a].tolist(),
        book.lon[a].tolist(), media, *_contact_columns(plan, idx),
    ]  # fmt: skip


def _close_notes(plan: MonthPlan, idx: np.ndarray) -> np.ndarray:
    notes = CLOSE_NOTES[plan.type_idx[idx], plan.resolution[idx]]
    if plan.pii_in_notes[idx].any():
        notes = np.where(plan.pii_in_notes[idx], np.strings.add(notes, _pii_text(plan, idx)), notes)
    return notes


def _state(plan: MonthPlan, idx: np.ndarray, at: int):
    """status, status_notes, updated_datetime, closed_datetime of requests ``idx`` at ``at``."""
    closed = plan.close[idx] <= at
    mid_seen = (plan.mid[idx] >= 0) & (plan.mid[idx] <= at)
    close_notes = _close_notes(plan, idx)
    notes = np.where(closed, close_notes, np.where(mid_seen, MID_NOTES[plan.type_idx[idx]], ""))
    updated = np.where(closed, plan.close[idx], np.where(mid_seen, plan.mid[idx], plan.requested[idx]))
    recorded_close = np.where(plan.closed_early_by[idx] > 0, plan.requested[idx] - plan.closed_early_by[idx], plan.close[idx])
    status = np.where(closed, "closed", "open").tolist()
    return (
        status,
        nullable(notes, notes != ""),
        offset_text(updated).tolist(),
        nullable(offset_text(recorded_close), closed),
        closed,
    )


def _events(plan: MonthPlan, idx: np.ndarray, base: int, after: int, upto: int) -> list:
    """request_updates rows (column lists) for status changes of requests ``idx`` in (after, upto]."""
    ids, times, statuses, notes = [], [], [], []
    t = plan.type_idx[idx]
    close_notes = _close_notes(plan, idx)
    for when, status, note in (
        (plan.requested[idx], "open", np.full(len(idx), "Request received")),
        (plan.mid[idx], "open", MID_NOTES[t]),
        (plan.close[idx], "closed", close_notes),
    ):
        sel = (when > after) & (when <= upto)
        ids.append(request_id(base + idx[sel]))
        times.append(when[sel])
        statuses.append(np.full(sel.sum(), status))
        notes.append(note[sel])
    ids, times = np.concatenate(ids), np.concatenate(times)
    order = np.lexsort((ids, times))
    return [ids[order].tolist(), offset_text(times[order]).tolist(), np.concatenate(statuses)[order].tolist(), np.concatenate(notes)[order].tolist()]


def _record_defects(ctx: GenContext, plan: MonthPlan, base: int, new: np.ndarray, closing: np.ndarray) -> None:
    """Manifest entries for defects that became visible: at creation (``new``) or at closing (``closing``)."""
    if ctx.clean:
        return
    dataset = f"{SYSTEM}.service_requests"
    if (ids := request_id(base + new[plan.bad_code[new]])).size:
        ctx.defects.add("invalid_code", dataset, ids.tolist(), "service_code not in the services table (legacy code)")
    if (ids := request_id(base + new[plan.pii_in_description[new]])).size:
        ctx.defects.add("pii_in_free_text", dataset, ids.tolist(), "a phone number or e-mail address typed into free text")
    if (ids := request_id(base + closing[plan.pii_in_notes[closing]])).size:
        ctx.defects.add("pii_in_free_text", dataset, ids.tolist(), "a phone number or e-mail address typed into free text")
    if (ids := request_id(base + closing[plan.closed_early_by[closing] > 0])).size:
        ctx.defects.add("closed_before_opened", dataset, ids.tolist(), "closed_datetime earlier than requested_datetime")


def _write_window(ctx: GenContext, conn, plan: MonthPlan, base: int, after: int, upto: int, open_numbers: np.ndarray | None) -> None:
    """Apply the month's activity in (after, upto]: new requests, changes to ones already open, their updates."""
    new = np.flatnonzero((plan.requested > after) & (plan.requested <= upto))
    if open_numbers is None:
        changing = np.empty(0, dtype=np.int64)
    else:
        old = np.flatnonzero(plan.requested <= after)
        old = old[np.isin(base + old, open_numbers)]
        moves = ((plan.close[old] > after) & (plan.close[old] <= upto)) | ((plan.mid[old] > after) & (plan.mid[old] <= upto))
        changing = old[moves]
    for part in slices(new):
        ctx.count(f"{SYSTEM}.service_requests", insert(conn, "requests", REQUEST_COLUMNS, _request_rows(ctx, plan, part, base, upto)))
    for part in slices(changing):
        status, notes, updated, closed, _ = _state(plan, part, upto)
        update(conn, "requests", "service_request_id", STATE_COLUMNS, zip(status, notes, updated, closed, request_id(base + part).tolist()))
    touched = np.concatenate([new, changing])
    for part in slices(touched):
        insert(conn, "request_updates", UPDATE_COLUMNS, _events(plan, part, base, after, upto))
    closing = touched[(plan.close[touched] > after) & (plan.close[touched] <= upto)]
    _record_defects(ctx, plan, base, new, closing)


def _services_rows() -> list:
    groups = {"pw": "Streets and lights", "san": "Trash and recycling", "parks": "Parks and trees", "wat": "Water and sewer",
              "trn": "Traffic", "pol": "Public safety", "hlth": "Health", "ce": "Housing and property"}  # fmt: skip
    rows = []
    for code, (name, dept, sla, _share) in SERVICE_TYPES.items():
        rows.append((code, name, f"Report a {name.lower()} to {DEPARTMENTS[dept]}", 0, "realtime", name.lower().replace(" ", ","), groups[dept], dept, float(sla)))
    return [list(col) for col in zip(*rows)]


def generate(ctx: GenContext) -> None:
    upto = end_of_day(ctx.as_of)
    with bulk_load(ctx.path(*DATABASE), SCHEMA, INDEXES) as conn:
        columns = ["service_code", "service_name", "description", "metadata", "type", "keywords", "group", "agency_responsible", "sla_days"]
        ctx.count(f"{SYSTEM}.services", insert(conn, "services", columns, _services_rows()))
        base = 1
        for month in month_starts(ctx.start, ctx.as_of):
            plan = plan_month(ctx, month)
            _write_window(ctx, conn, plan, base, -1, upto, None)
            conn.commit()
            base += len(plan)


def first_request_number(conn, month: dt.date) -> int | None:
    """The first request number of ``month`` in the store, if the month has begun."""
    return first_number_in_month(conn, "requests", "service_request_id", "SR-", "requested_datetime", month)


def advance(ctx: GenContext, first: dt.date, last: dt.date) -> None:
    after, upto = end_of_day(first - dt.timedelta(days=1)), end_of_day(last)
    with open_store(ctx.path(*DATABASE)) as conn:
        open_rows = conn.execute("SELECT service_request_id, substr(requested_datetime, 1, 7) FROM requests WHERE status = 'open'").fetchall()
        open_numbers = np.asarray(sorted(int(r[0][3:]) for r in open_rows), dtype=np.int64)
        months = sorted({dt.date.fromisoformat(r[1] + "-01") for r in open_rows} | set(month_starts(first, last)))
        (top,) = conn.execute("SELECT max(CAST(substr(service_request_id, 4) AS INTEGER)) FROM requests").fetchone()
        next_free = (top or 0) + 1
        for month in months:  # one month's plan in memory at a time
            plan = plan_month(ctx, month)
            base = first_request_number(conn, month)
            base = next_free if base is None else base
            _write_window(ctx, conn, plan, base, after, upto, open_numbers)
            next_free = max(next_free, base + len(plan))
