"""Randomized rollouts Riverton ran in its own 311 data (the Lab @ DC's low-cost evaluations), and their ground truth.

Two rollouts, each randomized by service district (the ZIP code of the request) and week, half of the
district-weeks treated, drawn from the rollout's own seed (``assignment``, the same rule as
``citystat.evaluations.assignment.draw``, written out here so the pipeline never imports the demo city):

* ``pothole_triage`` (a real effect): in a treated district-week, a pothole request that would have taken more
  than a day (+1 hour) to close closes exactly one day sooner (same time of day, so inside crews' shifts);
  shorter ones are unchanged. The true effect on mean days to close is minus the share of treated requests that
  were moved (``true_effect_days`` in the ground truth, computed from the month plans).
* ``streetlight_form`` (no effect): a redesigned streetlight report form; nothing in the data changes.

The effect is applied inside ``crm311.plan_month`` without drawing from the month's random stream, so every
other record is identical with or without it, and ``generate``/``advance`` agree; ``--clean`` keeps both
rollouts (they are not defects). ``write_ground_truth`` writes ``<city>/evaluations.json``.
"""
from __future__ import annotations

import datetime as dt
import json

import numpy as np

from demo_city.clock import DAY, HOUR, seconds

GROUND_TRUTH_FILE = "evaluations.json"
CAP_DAYS = 30  # days to close above this count as 30 in the pre-registered analysis of pothole_triage
DISTRICT_ZIPCODES = ["30101", "30102", "30103", "30104", "30105"]  # reference.ZIPCODES, in registry order


def _rollout(eval_id, service_code, start, weeks, seed, effect_days, description):
    return {"evaluation_id": eval_id, "service_code": service_code, "start": start, "weeks": weeks, "seed": seed,
            "designed_effect_days": effect_days, "description": description}


ROLLOUTS = [
    _rollout("pothole_triage", "POTHOLE", dt.date(2025, 11, 3), 24, 20251103, -1.0,
             "new pothole triage: a treated district-week's pothole requests that would take over a day close one day sooner"),
    _rollout("streetlight_form", "STREETLIGHT", dt.date(2026, 1, 5), 16, 20260105, 0.0,
             "redesigned streetlight report form: no effect on days to close"),
]


def units(rollout: dict) -> list[tuple[str, int]]:
    """Every (zipcode, week index) unit of the rollout, in the order the draw permutes them."""
    return [(z, w) for z in DISTRICT_ZIPCODES for w in range(rollout["weeks"])]


def assignment(rollout: dict, share: float = 0.5) -> set[tuple[str, int]]:
    """The treated units: a seeded permutation of the units, the first floor(share x n) treated."""
    all_units = units(rollout)
    order = np.random.default_rng(rollout["seed"]).permutation(len(all_units))
    return {all_units[i] for i in order[: int(share * len(all_units))]}


def _treated_mask(rollout: dict, type_idx, type_code: int, requested, zipcode) -> np.ndarray:
    start = seconds(rollout["start"])
    week = (requested - start) // (7 * DAY)
    in_window = (type_idx == type_code) & (requested >= start) & (week < rollout["weeks"])
    if not in_window.any():
        return in_window
    grid = np.zeros((len(DISTRICT_ZIPCODES), rollout["weeks"]), dtype=bool)  # treated[zip index, week]
    for z, w in assignment(rollout):
        grid[DISTRICT_ZIPCODES.index(z), w] = True
    zip_idx = np.searchsorted(np.asarray(DISTRICT_ZIPCODES), np.asarray(zipcode, dtype=str))
    known = in_window & (zip_idx < len(DISTRICT_ZIPCODES))
    known[known] &= np.asarray(DISTRICT_ZIPCODES)[zip_idx[known]] == np.asarray(zipcode, dtype=str)[known]
    mask = np.zeros(len(requested), dtype=bool)
    mask[known] = grid[zip_idx[known], week[known]]
    return mask


def apply_effects(type_idx: np.ndarray, codes: list[str], requested: np.ndarray, close: np.ndarray,
                  zipcode: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``close`` with every rollout's effect applied, and a mask of the requests it moved."""
    close = close.copy()
    moved = np.zeros(len(close), dtype=bool)
    for rollout in ROLLOUTS:
        if not rollout["designed_effect_days"] or rollout["service_code"] not in codes:
            continue
        treated = _treated_mask(rollout, type_idx, codes.index(rollout["service_code"]), requested, zipcode)
        shift = int(-rollout["designed_effect_days"] * DAY)
        move = treated & (close - requested > shift + HOUR)
        close[move] -= shift
        moved |= move
    return close, moved


def ground_truth(ctx) -> dict:
    """What the rollouts really did in this city (true effects from the month plans, the treated units)."""
    from demo_city.clock import month_starts
    from demo_city.systems import crm311

    out = []
    for rollout in ROLLOUTS:
        start = rollout["start"]
        end = start + dt.timedelta(weeks=rollout["weeks"]) - dt.timedelta(days=1)
        planted = ctx.start <= start and end <= ctx.as_of
        treated = assignment(rollout)
        entry = {**rollout, "start": start.isoformat(), "end": end.isoformat(), "planted": planted,
                 "unit": "zipcode x week (week 0 starts on the start date)", "treated_share": 0.5,
                 "treated_units": sorted(f"{z}:{w}" for z, w in treated),
                 "outcome": "days_to_close of the service_code's requests made in the window (marts.fct_service_requests)"}
        if planted:
            code = crm311.CODES.index(rollout["service_code"])
            n_treated = n_control = moved = 0
            capped = 0.0  # the change in days to close capped at CAP_DAYS (the registry's pre-registered cap)
            for month in month_starts(start, end):
                plan = crm311.plan_month(ctx, month)
                mask = _treated_mask(rollout, plan.type_idx, code, plan.requested, crm311.zipcodes(ctx, plan.address_idx))
                window = (plan.type_idx == code) & (plan.requested >= seconds(start)) & (plan.requested < seconds(end) + DAY)
                n_treated += int(mask.sum())
                n_control += int((window & ~mask).sum())
                moved += int((mask & plan.moved).sum())
                new = (plan.close - plan.requested)[mask & plan.moved] / DAY
                capped += float((np.minimum(new, CAP_DAYS) - np.minimum(new - rollout["designed_effect_days"], CAP_DAYS)).sum())
            share_moved = moved / n_treated if n_treated else 0.0
            entry.update(requests_treated=n_treated, requests_control=n_control, requests_moved=moved,
                         true_effect_days=round(rollout["designed_effect_days"] * share_moved, 6),
                         true_effect_days_capped=round(capped / n_treated, 6) if n_treated else 0.0, cap_days=CAP_DAYS)
        else:
            entry.update(true_effect_days=None)
        out.append(entry)
    return {"evaluations": out}


def write_ground_truth(ctx) -> None:
    (ctx.out / GROUND_TRUTH_FILE).write_text(json.dumps(ground_truth(ctx), indent=1, default=str))
