"""Code Enforcement's vacant and abandoned properties programme: daily CSV exports in ``drops/code_enforcement/``.

Every day the case tracker exports the records created or changed that day:
``vacant_cases_YYYY-MM-DD.csv`` (the case as it stands after the change) and
``vacant_inspections_YYYY-MM-DD.csv``. Cases are opened by an inspection that finds violations, move
to in progress, get follow-up inspections, and are addressed (repaired, demolished or deconstructed)
with a closure date and a photo of the property; a final inspection confirms it.

The programme's public goal is 1,000 properties addressed in 1,000 days from 2024-01-01, and it runs
slightly ahead of pace (~1.05 a day). Its size is a programme's capacity, not a function of the city's
data volume, so it does not change with ``--scale`` (the pace holds at every scale). The whole programme
is planned once from one random stream, far past any ``as_of``; a day's files are that plan's events
of the day, so ``advance`` writes exactly the files a longer ``generate`` would have.
"""
from __future__ import annotations

import csv
import datetime as dt
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from demo_city import people
from demo_city.clock import DAY, HOUR, date_text, end_of_day, naive_text, seconds, to_date
from demo_city.core import GenContext
from demo_city.places import address_book
from demo_city.record_ids import format_ids
from demo_city.reference import DISTRICTS

SYSTEM = "ce_vacant"
DROP = ("drops", "code_enforcement")
HORIZON_DAYS = 15 * 365  # the plan reaches far past any as_of, so advance never runs off its end
ADDRESSED_PER_DAY = 1.06  # slightly ahead of the goal's 1 a day (less ~1% falsely marked addressed)
PACE_REGULARITY = 12.0  # gamma shape of the gaps between closures: a managed pace, not a pure Poisson process
NEVER_ADDRESSED_PER_DAY = 0.09
LEAD_IN_DAYS = 400
OUTCOMES = ["repaired", "demolished", "deconstructed"]
OUTCOME_P = [0.55, 0.3, 0.15]
INSPECTORS = [f"CEI-{i:02d}" for i in range(1, 2 * len(DISTRICTS) + 1)]  # two per district
EVIDENCE_URL_PREFIX = "https://ce.riverton.example/evidence/"

CASE_COLUMNS = ["case_id", "property_id", "parcel_address", "owner_name", "owner_phone", "district", "opened_date", "status",
                "outcome", "closure_date", "evidence_photo_url", "inspector_id", "updated_at"]  # fmt: skip
INSPECTION_COLUMNS = ["inspection_id", "case_id", "inspection_date", "inspector_id", "violations_found", "result", "notes"]
# the one later export from a tracker upgrade: inspector_id renamed, a ward column added
DRIFTED_CASE_COLUMNS = [("inspector" if c == "inspector_id" else c) for c in CASE_COLUMNS] + ["ward"]

OPENED, IN_PROGRESS, ADDRESSED, FALSELY_ADDRESSED = 0, 1, 2, 3
VIOLATION, NO_ACCESS, COMPLIANT = 0, 1, 2
RESULTS = ["violation", "no_access", "compliant"]
_NOTES = {
    "opening": ["Boarded windows; overgrown yard", "Roof damage; debris on lot", "Open structure; broken doors",
                "Utilities disconnected; structure unsecured", "Fire damage; partial collapse"],
    "follow_up": ["Work in progress; violations remain", "Owner submitted repair plan", "Demolition bid pending",
                  "Securing ordered; violations remain"],
    "no_access": ["No access - gate locked", "No access - dog on premises", "Owner did not attend"],
    "repaired": ["Repairs complete; property secured and occupied"],
    "demolished": ["Structure demolished; lot cleared and seeded"],
    "deconstructed": ["Structure deconstructed; materials salvaged; lot graded"],
}  # fmt: skip
NOTES = np.asarray([n for k in _NOTES for n in _NOTES[k]])
NOTE_AT = {k: sum(len(_NOTES[j]) for j in list(_NOTES)[: i]) for i, k in enumerate(_NOTES)}

# Injected defects
FALSELY_ADDRESSED_RATE = 0.01  # the South Bend bug: marked addressed with no closure date or photo
DUPLICATE_RATE = 0.004  # a case row exported twice in the same file
FUTURE_DATE_RATE = 0.004  # inspection date typed with the year's digits swapped
PII_RATE = 0.006  # an owner's phone or e-mail typed into inspection notes
DRIFT_DAYS_BEFORE_AS_OF = 40
MISSING_EXPORT_AT = 0.45  # share of the history before the day whose export failed


@dataclass(frozen=True)
class Programme:
    """The whole programme: cases, their change events and inspections, each sorted by time."""

    property_idx: np.ndarray  # per case: index into the address book
    owner: np.ndarray
    owner_phone: np.ndarray
    inspector: np.ndarray
    opened: np.ndarray
    outcome: np.ndarray
    false_missing: np.ndarray  # for falsely addressed cases: 1 closure date, 2 photo, 3 both missing
    # change events
    ev_case: np.ndarray
    ev_time: np.ndarray
    ev_kind: np.ndarray
    ev_duplicated: np.ndarray
    # inspections
    in_case: np.ndarray
    in_time: np.ndarray
    in_result: np.ndarray
    in_violations: np.ndarray
    in_note: np.ndarray
    in_future: np.ndarray
    in_pii: np.ndarray  # "" = no PII in the notes


def _next_weekday(sec: np.ndarray) -> np.ndarray:
    """Move times that fall on a weekend to the same hour on the following Monday."""
    dow = (sec // DAY + 3) % 7  # 1970-01-01 was a Thursday (Monday = 0)
    return sec + np.where(dow >= 5, (7 - dow) * DAY, 0)


def _office_time(rng: np.random.Generator, day_sec: np.ndarray) -> np.ndarray:
    day_sec = day_sec - day_sec % DAY
    return _next_weekday(day_sec + 8 * HOUR + rng.integers(0, 9 * HOUR, len(day_sec)))


@lru_cache(maxsize=4)
def programme(seed: int, start: dt.date, clean: bool) -> Programme:
    rng = np.random.default_rng([seed, 0xCE, start.toordinal()])
    first = seconds(start)
    lead_in = LEAD_IN_DAYS * DAY  # cases already open when the history starts
    weekdays = np.arange(first - lead_in, first + HORIZON_DAYS * DAY, DAY)
    weekdays = weekdays[(weekdays // DAY + 3) % 7 < 5]  # 1970-01-01 was a Thursday (Monday = 0)
    # The team closes properties at a managed pace: a steady renewal process on working days
    per_weekday = ADDRESSED_PER_DAY * 7 / 5
    steps = rng.gamma(PACE_REGULARITY, 1 / (PACE_REGULARITY * per_weekday), int(HORIZON_DAYS * per_weekday * 1.1))
    position = np.searchsorted(weekdays, first) + np.cumsum(steps)
    addressed = _office_time(rng, weekdays[position[position < len(weekdays)].astype(np.int64)])
    processing = ((20 + rng.gamma(2.0, 45.0, len(addressed))) * DAY).astype(np.int64)
    opened_a = _office_time(rng, addressed - processing)
    # ...and some properties are never resolved (owners in litigation, title problems)
    stuck_days = rng.poisson(NEVER_ADDRESSED_PER_DAY * 7 / 5, len(weekdays))
    opened_b = _office_time(rng, np.repeat(weekdays, stuck_days))
    opened = np.concatenate([opened_a, opened_b])
    addressed = np.concatenate([addressed, np.full(len(opened_b), np.iinfo(np.int64).max)])
    order = np.argsort(opened, kind="stable")
    opened, addressed = opened[order], addressed[order]
    n = len(opened)
    never = addressed == np.iinfo(np.int64).max
    span = np.where(never, 90 * DAY, addressed - opened)
    in_progress = _office_time(rng, opened + (np.minimum(rng.uniform(7, 46, n) * DAY, span // 2)).astype(np.int64))
    book = address_book(seed)
    property_idx = rng.permutation(len(book.address_id))[:n] if n <= len(book.address_id) else rng.integers(0, len(book.address_id), n)
    inspector = 2 * book.district_idx[property_idx] + rng.integers(0, 2, n)
    owner = people.names(rng, n).astype(str)
    owner_phone = np.strings.add(np.strings.add(np.asarray(["404", "470", "678"])[rng.integers(0, 3, n)], "-555-01"),
                                 np.strings.zfill(rng.integers(0, 100, n).astype(str), 2))  # fmt: skip
    outcome = rng.choice(len(OUTCOMES), size=n, p=OUTCOME_P)

    # Defects: their own stream, so a clean programme differs only where a defect was injected
    drng = np.random.default_rng([seed, 0xCE, start.toordinal(), 0xBAD])
    falsely = (drng.random(n) < FALSELY_ADDRESSED_RATE) & (not clean)
    false_at = _office_time(drng, in_progress + drng.integers(5, 60, n) * DAY)
    falsely &= false_at < addressed
    false_missing = np.where(falsely, drng.choice([1, 2, 3], size=n, p=[0.5, 0.3, 0.2]), 0)
    frozen_after = np.where(falsely, false_at, np.iinfo(np.int64).max)  # the tracker thinks it is done

    ev_case = np.concatenate([np.arange(n)] * 3)
    ev_time = np.concatenate([opened, in_progress, np.where(falsely, false_at, addressed)])
    ev_kind = np.concatenate([np.full(n, OPENED), np.full(n, IN_PROGRESS), np.where(falsely, FALSELY_ADDRESSED, ADDRESSED)])
    keep = ev_time < np.iinfo(np.int64).max
    ev_case, ev_time, ev_kind = ev_case[keep], ev_time[keep], ev_kind[keep]
    order = np.lexsort((ev_kind, ev_case, ev_time))
    ev_case, ev_time, ev_kind = ev_case[order], ev_time[order], ev_kind[order]
    ev_duplicated = (drng.random(len(ev_case)) < DUPLICATE_RATE) & (not clean)

    # inspections: the one that opened the case, follow-ups every 30-75 days, a final one when addressed
    cases, times, results = [np.arange(n)], [opened], [np.full(n, VIOLATION)]
    follow = opened.copy()
    last = np.minimum(np.minimum(addressed - DAY, frozen_after), first + HORIZON_DAYS * DAY)  # follow-ups stop before the final visit
    while True:
        follow = _office_time(rng, follow + rng.integers(30, 76, n) * DAY)
        due = follow < last
        if not due.any():
            break
        cases.append(np.flatnonzero(due))
        times.append(follow[due])
        results.append(np.where(rng.random(due.sum()) < 0.8, VIOLATION, NO_ACCESS))
        follow = np.where(due, follow, np.iinfo(np.int64).max // 2)
    done = (addressed < frozen_after) & ~never
    cases.append(np.flatnonzero(done))
    times.append(addressed[done] - HOUR)  # the confirming inspection, just before the case is closed
    results.append(np.full(done.sum(), COMPLIANT))
    in_case, in_time, in_result = np.concatenate(cases), np.concatenate(times), np.concatenate(results)
    order = np.lexsort((in_case, in_time))
    in_case, in_time, in_result = in_case[order], in_time[order], in_result[order]
    m = len(in_case)
    opening = np.zeros(m, dtype=bool)
    opening[np.unique(in_case, return_index=True)[1]] = True
    violations = np.where(in_result == VIOLATION, np.where(opening, rng.integers(1, 7, m), rng.integers(1, 4, m)), 0)
    note = np.select(
        [opening, in_result == VIOLATION, in_result == NO_ACCESS],
        [NOTE_AT["opening"] + rng.integers(0, len(_NOTES["opening"]), m), NOTE_AT["follow_up"] + rng.integers(0, len(_NOTES["follow_up"]), m),
         NOTE_AT["no_access"] + rng.integers(0, len(_NOTES["no_access"]), m)],
        default=np.asarray([NOTE_AT[o] for o in OUTCOMES])[outcome[in_case]],
    )  # fmt: skip
    in_future = (drng.random(m) < FUTURE_DATE_RATE) & (not clean)
    pii = (drng.random(m) < PII_RATE) & (not clean)
    owner_email = np.strings.add(np.strings.lower(np.strings.replace(owner[in_case], " ", ".")), "@example.net")
    pii_text = np.where(drng.random(m) < 0.5, np.strings.add("; owner cell ", owner_phone[in_case]), np.strings.add("; owner email ", owner_email))
    return Programme(
        property_idx, owner, owner_phone, inspector, opened, outcome, false_missing, ev_case, ev_time, ev_kind,
        ev_duplicated, in_case, in_time, in_result, violations, note, in_future, np.where(pii, pii_text, ""),
    )  # fmt: skip


def case_ids(idx) -> np.ndarray:
    return format_ids("CASE-", np.asarray(idx) + 1, 5)


def _future_date(text: str, as_of: dt.date) -> str:
    """The year typed with its last two digits swapped (2024 -> 2042), or a decade ahead if that is not later."""
    swapped = text[:2] + text[3] + text[2] + text[4:]
    return swapped if swapped > as_of.isoformat() else str(int(text[:4]) + 10) + text[4:]


def _case_rows(ctx: GenContext, p: Programme, events: np.ndarray) -> list[list[str]]:
    book = address_book(ctx.seed)
    c, kind = p.ev_case[events], p.ev_kind[events]
    ids = case_ids(c)
    addressed = (kind == ADDRESSED) | (kind == FALSELY_ADDRESSED)
    closure = np.where(addressed, date_text(p.ev_time[events]), "")
    evidence = np.where(addressed, np.strings.add(np.strings.add(EVIDENCE_URL_PREFIX, ids), ".jpg"), "")
    missing = p.false_missing[c]
    closure = np.where((kind == FALSELY_ADDRESSED) & (missing != 2), "", closure)
    evidence = np.where((kind == FALSELY_ADDRESSED) & (missing != 1), "", evidence)
    status = np.asarray(["open", "in_progress", "addressed", "addressed"])[kind]
    outcome = np.where(addressed, np.asarray(OUTCOMES)[p.outcome[c]], "")
    columns = [
        ids, format_ids("PROP-", p.property_idx[c] + 1, 6), book.address[p.property_idx[c]], p.owner[c], p.owner_phone[c],
        np.asarray(DISTRICTS)[book.district_idx[p.property_idx[c]]], date_text(p.opened[c]), status, outcome, closure,
        evidence, np.asarray(INSPECTORS)[p.inspector[c]], naive_text(p.ev_time[events]),
    ]  # fmt: skip
    return [list(row) for row in zip(*(col.tolist() for col in columns))]


def _inspection_rows(ctx: GenContext, p: Programme, idx: np.ndarray) -> list[list[str]]:
    dates = date_text(p.in_time[idx]).tolist()
    for k in np.flatnonzero(p.in_future[idx]).tolist():
        dates[k] = _future_date(dates[k], ctx.as_of)
    columns = [
        format_ids("INSP-", idx + 1, 6).tolist(), case_ids(p.in_case[idx]).tolist(), dates,
        np.asarray(INSPECTORS)[p.inspector[p.in_case[idx]]].tolist(), p.in_violations[idx].tolist(),
        np.asarray(RESULTS)[p.in_result[idx]].tolist(), np.strings.add(NOTES[p.in_note[idx]], p.in_pii[idx]).tolist(),
    ]  # fmt: skip
    return [list(row) for row in zip(*columns)]


def _write_csv(path: Path, header: list[str], rows: list[list]) -> None:
    if path.exists():
        raise FileExistsError(f"{path}: daily exports are never rewritten")
    with path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(rows)


def _special_days(ctx: GenContext, p: Programme) -> tuple[dt.date | None, dt.date | None]:
    """(missing export day, schema-drift day), chosen once at generation; None in clean mode."""
    if ctx.clean:
        return None, None
    span = (ctx.as_of - ctx.start).days
    missing = ctx.start + dt.timedelta(days=int(span * MISSING_EXPORT_AT))
    while missing.weekday() >= 5:
        missing += dt.timedelta(days=1)
    drift_from = seconds(ctx.as_of - dt.timedelta(days=DRIFT_DAYS_BEFORE_AS_OF))
    later = p.ev_time[(p.ev_time >= drift_from) & (p.ev_time <= end_of_day(ctx.as_of))]
    drift = to_date(later.min()) if len(later) else None
    return (missing if missing <= ctx.as_of else None), drift


def _write_days(ctx: GenContext, first: dt.date, last: dt.date, missing: dt.date | None, drift: dt.date | None) -> None:
    p = programme(ctx.seed, ctx.start, ctx.clean)
    folder = ctx.path(*DROP, "x").parent
    ev_day = p.ev_time // DAY
    in_day = p.in_time // DAY
    dataset_cases, dataset_inspections = f"{SYSTEM}.cases", f"{SYSTEM}.inspections"
    day = first
    while day <= last:
        d = seconds(day) // DAY
        events = np.arange(*np.searchsorted(ev_day, [d, d + 1]))
        inspections = np.arange(*np.searchsorted(in_day, [d, d + 1]))
        if day == missing:
            ctx.defects.add("missing_export", dataset_cases, [day.isoformat()], "the day's exports never arrived")
            ctx.defects.add("missing_export", dataset_inspections, [day.isoformat()], "the day's exports never arrived")
            day += dt.timedelta(days=1)
            continue
        rows = _case_rows(ctx, p, events)
        dup = p.ev_duplicated[events]
        for k in sorted(np.flatnonzero(dup).tolist(), reverse=True):
            rows.insert(k + 1, list(rows[k]))
        name = f"vacant_cases_{day.isoformat()}.csv"
        header = CASE_COLUMNS
        if day == drift:
            header = DRIFTED_CASE_COLUMNS
            rows = [r + [f"Ward {1 + int(r[1][5:]) % 12}"] for r in rows]
            ctx.defects.add("schema_drift", dataset_cases, [name], "inspector_id renamed to inspector and a ward column added")
        _write_csv(folder / name, header, rows)
        _write_csv(folder / f"vacant_inspections_{day.isoformat()}.csv", INSPECTION_COLUMNS, _inspection_rows(ctx, p, inspections))
        ctx.count(dataset_cases, len(rows))
        ctx.count(dataset_inspections, len(inspections))
        if not ctx.clean:
            ids = case_ids(p.ev_case[events])
            if dup.any():
                ctx.defects.add("duplicate", dataset_cases, ids[dup].tolist(), "the same case row exported twice in one daily file")
            falsely = p.ev_kind[events] == FALSELY_ADDRESSED
            if falsely.any():
                ctx.defects.add("addressed_without_evidence", dataset_cases, ids[falsely].tolist(),
                                "status addressed without a closure date or evidence photo (the South Bend bug)")  # fmt: skip
            insp_ids = format_ids("INSP-", inspections + 1, 6)
            if (future := p.in_future[inspections]).any():
                ctx.defects.add("future_date", dataset_inspections, insp_ids[future].tolist(), "inspection_date after as_of (year digits swapped)")
            if (pii := p.in_pii[inspections] != "").any():
                ctx.defects.add("pii_in_free_text", dataset_inspections, insp_ids[pii].tolist(), "an owner's phone or e-mail typed into notes")
        day += dt.timedelta(days=1)


def generate(ctx: GenContext) -> None:
    folder = ctx.path(*DROP, "x").parent
    for old in folder.glob("vacant_*.csv"):
        old.unlink()
    missing, drift = _special_days(ctx, programme(ctx.seed, ctx.start, ctx.clean))
    _write_days(ctx, ctx.start, ctx.as_of, missing, drift)


def advance(ctx: GenContext, first: dt.date, last: dt.date) -> None:
    _write_days(ctx, first, last, None, None)
