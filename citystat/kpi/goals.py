"""Strategic goal pacing (South Bend: 1,000 properties addressed in 1,000 days), linear and hand-checkable.

With days counted as whole days since the start date to the judged date (``min(as_of, deadline) - start_date``):

    progress        = (current - baseline) / (target - baseline), limited to [0, 1]  (increase and decrease goals)
                      share of periods holding the level                          (maintain goals: target = baseline)
    elapsed share   = days elapsed / days total,            days total = deadline - start_date
    pace needed     = (target - baseline) / days total       (per day, from the start)
    actual pace     = (current - baseline) / days elapsed
    pace to finish  = (target - current) / days remaining
    projected date  = start_date + ceil((target - baseline) / actual pace) days
    on track        = progress >= elapsed share  (the same as projected date <= deadline)

Past the deadline the goal is judged on the values up to the deadline only (the clock stops there) and shows its
final verdict: achieved or missed.

Signed arithmetic makes the same formulas work for goals that go down (baseline above target).
"""
from __future__ import annotations

import datetime as dt
import math
from dataclasses import asdict, dataclass

import pandas as pd

from citystat.kpi.periods import parse_period
from citystat.kpi.problems import Problem, ValidationError
from citystat.kpi.registry import Registry

GOAL_COLUMNS = ["goal_id", "title", "kpi_id", "department_code", "baseline", "target_value", "unit",
                "start_date", "deadline", "owner"]

NOT_STARTED, ACHIEVED, ON_TRACK, OFF_TRACK, MISSED, NO_DATA = (
    "not started", "achieved", "on track", "off track", "missed", "no data")


INCREASE, DECREASE, MAINTAIN = "increase", "decrease", "maintain"


@dataclass(frozen=True)
class GoalPacing:
    goal_id: str
    as_of: dt.date
    start_date: dt.date
    deadline: dt.date
    baseline: float
    target_value: float
    current_value: float | None
    progress: float | None
    days_elapsed: int
    days_total: int
    days_remaining: int
    elapsed_share: float
    pace_needed_per_day: float
    actual_pace_per_day: float | None
    pace_to_finish_per_day: float | None
    projected_completion_date: dt.date | None
    status: str
    goal_type: str = INCREASE
    change_from_baseline: float | None = None
    judged_on: dt.date | None = None
    final: bool = False


def goal_type_of(baseline: float, target_value: float) -> str:
    """increase (target above baseline), decrease ('reduce to': below) or maintain (the same level)."""
    if target_value > baseline:
        return INCREASE
    if target_value < baseline:
        return DECREASE
    return MAINTAIN


def holds_level(value: float, level: float, direction: str) -> bool:
    """A maintain goal's level is held: at or above it (direction up, the default) or at or below it (down)."""
    return value <= level + 1e-9 * abs(level) if direction == "down" else value >= level - 1e-9 * abs(level)


def pace_goal(goal_id: str, baseline: float, target_value: float, start_date: dt.date, deadline: dt.date,
              current_value: float | None, as_of: dt.date, held_share: float | None = None,
              direction: str = "up") -> GoalPacing:
    """Pacing of one goal on ``as_of`` given the goal measure's value (cumulative or level) on
    ``min(as_of, deadline)``: values after the deadline never count (the caller reads them that way).

    progress (0-1, bounded):
      increase / decrease: (current - baseline) / (target - baseline), limited to [0, 1]: a goal that moved the wrong
        way shows 0 (change_from_baseline keeps the signed move), one beyond its target 1;
      maintain (target = baseline): ``held_share``, the share of periods up to the judged date that held the level.
    status: not started | no data | achieved (progress 1 on or before the deadline; for maintain, the level held on the
      deadline) | missed (the deadline passed without it) | on track | off track; past the deadline only the final
      verdict (achieved / missed) is shown and ``final`` is true."""
    if deadline <= start_date:
        raise ValueError(f"goal {goal_id}: deadline {deadline} is not after start_date {start_date}")
    kind = goal_type_of(baseline, target_value)
    judged_on = min(as_of, deadline)
    final = as_of >= deadline
    days_total = (deadline - start_date).days
    days_elapsed = max((judged_on - start_date).days, 0)  # the deadline stops the clock: later work does not count
    days_remaining = max((deadline - as_of).days, 0)
    span = target_value - baseline
    pace_needed = span / days_total
    elapsed_share = min(days_elapsed / days_total, 1.0)
    change = None if current_value is None or math.isnan(current_value) else current_value - baseline
    actual_pace = pace_to_finish = projected = None
    if change is None:
        progress = None
    elif kind == MAINTAIN:
        progress = held_share if held_share is not None else (1.0 if holds_level(current_value, target_value, direction) else 0.0)
    else:
        progress = min(max(change / span, 0.0), 1.0)
        actual_pace = change / days_elapsed if days_elapsed > 0 else None
        pace_to_finish = (target_value - current_value) / days_remaining if days_remaining > 0 else None
        # linear at the actual pace; no date when there is no pace yet or it runs the wrong way
        moving_right_way = actual_pace is not None and actual_pace != 0 and (actual_pace > 0) == (span > 0)
        projected = start_date + dt.timedelta(days=math.ceil(span / actual_pace)) if moving_right_way else None
        if progress >= 1 and projected is not None and projected > judged_on:
            projected = judged_on  # reached: the projection is the date it was judged on at the latest
    if as_of < start_date:
        status = NOT_STARTED
    elif progress is None:
        status = NO_DATA
    elif kind == MAINTAIN:
        held_now = holds_level(current_value, target_value, direction)
        status = (ACHIEVED if held_now else MISSED) if final else (ON_TRACK if held_now else OFF_TRACK)
    elif progress >= 1:
        status = ACHIEVED
    elif final:
        status = MISSED
    elif progress >= elapsed_share:
        status = ON_TRACK
    else:
        status = OFF_TRACK
    return GoalPacing(goal_id, as_of, start_date, deadline, baseline, target_value, current_value, progress,
                      days_elapsed, days_total, days_remaining, elapsed_share, pace_needed, actual_pace,
                      pace_to_finish, projected, status, kind, change, judged_on, final)


def read_goals(frame: pd.DataFrame, source: str = "strategic_goals") -> list[dict]:
    """Validated goals from the strategic goals register (docs/contracts.md); problems name the row and field."""
    missing = [c for c in GOAL_COLUMNS if c not in frame.columns]
    if missing:
        raise ValidationError(f"strategic goals {source}", [Problem(source, "columns", f"missing column(s) {', '.join(missing)}")])
    problems: list[Problem] = []
    goals = []
    columns = GOAL_COLUMNS + (["measure"] if "measure" in frame.columns else [])
    for i, row in enumerate(frame[columns].to_dict("records"), start=1):
        at = f"{source} row {i}"
        before = len(problems)
        goal = dict(row)
        for field in ("goal_id", "kpi_id"):
            if not str(row[field] or "").strip() or str(row[field]) == "nan":
                problems.append(Problem(at, field, "is required"))
        for field in ("baseline", "target_value"):
            try:
                goal[field] = float(row[field])
                if math.isnan(goal[field]):
                    raise ValueError
            except (TypeError, ValueError):
                problems.append(Problem(at, field, f"{row[field]!r} is not a number"))
        for field in ("start_date", "deadline"):
            try:
                value = row[field]
                goal[field] = value if isinstance(value, dt.date) and not isinstance(value, dt.datetime) else \
                    pd.Timestamp(value).date()
            except (TypeError, ValueError):
                problems.append(Problem(at, field, f"{row[field]!r} is not a date (YYYY-MM-DD)"))
        if len(problems) == before and goal["deadline"] <= goal["start_date"]:
            problems.append(Problem(at, "deadline", f"{goal['deadline']} is not after start_date {goal['start_date']}"))
        if len(problems) == before:
            goals.append(goal)
    if problems:
        raise ValidationError(f"strategic goals {source}", problems)
    return goals


def _period_end(period) -> dt.date:
    if period.grain == "day":
        return period.start
    if period.grain == "fiscal_year":
        return dt.date(period.start.year + 1, 6, 30)
    nxt = dt.date(period.start.year + (period.start.month == 12), period.start.month % 12 + 1, 1)
    return nxt - dt.timedelta(days=1)


def goal_points(goal: dict, series: pd.DataFrame, as_of: dt.date) -> list[tuple]:
    """(period, value) of the goal's KPI that count on ``as_of``: periods starting on or before as_of and, once the
    deadline has passed, only periods that end on or before the deadline (values after it never count; monthly data
    cannot tell which days of a month straddling the deadline came before it)."""
    rows = series[series["kpi_id"] == goal["kpi_id"]]
    deadline = goal.get("deadline")
    cut = deadline is not None and as_of >= deadline
    points = []
    for period_text, value in zip(rows["period"], rows["value"]):
        if value is None or (isinstance(value, float) and math.isnan(value)):
            continue
        period = parse_period(period_text)
        if period.start > as_of or (cut and _period_end(period) > deadline):
            continue
        points.append((period, float(value)))
    return sorted(points)


def current_value(goal: dict, series: pd.DataFrame, as_of: dt.date, cumulative: bool) -> float | None:
    """The goal measure on ``as_of`` (on the deadline once it has passed) from the KPI's series (kpi_id, period, value).

    Cumulative goals (an additive KPI such as properties addressed) add baseline + the values of every period that
    starts between start_date's period and as_of; level goals (a rate) take the latest value on or before as_of.
    """
    points = goal_points(goal, series, as_of)
    if not points:
        return goal["baseline"] if cumulative else None
    if cumulative:
        first = parse_period(_period_label_like(points[0][0], goal["start_date"]))
        return goal["baseline"] + sum(v for p, v in points if p >= first)
    return max(points)[1]


def _period_label_like(example, day: dt.date) -> str:
    """The period of ``example``'s grain that contains ``day``."""
    if example.grain == "month":
        return f"{day.year:04d}-{day.month:02d}"
    if example.grain == "fiscal_year":
        return f"FY{day.year + 1 if day.month >= 7 else day.year}"
    return day.isoformat()


def is_cumulative(goal: dict, registry: Registry | None) -> bool:
    """'N things in D days' adds up: the KPI counts things (registry unit count/miles/usd) and the goal starts from 0.

    Any other goal ('raise visits from 118,000 to 130,000 a month', 'close 85% on time') is a level to reach.
    A ``measure`` column (cumulative | level) in the register, when present, decides instead.
    """
    measure = str(goal.get("measure") or "").strip().lower()
    if measure in ("cumulative", "level"):
        return measure == "cumulative"
    kpi = registry.kpis.get(goal["kpi_id"]) if registry is not None else None
    return kpi is not None and kpi.additive and goal["baseline"] == 0


def pace_goals(goals: list[dict], series: pd.DataFrame, as_of: dt.date, registry: Registry | None = None) -> pd.DataFrame:
    """One row per goal: its pacing on ``as_of`` (see ``is_cumulative`` for how the current value is read)."""
    rows = []
    for goal in goals:
        cumulative = is_cumulative(goal, registry)
        value = current_value(goal, series, as_of, cumulative)
        kpi = registry.kpis.get(goal["kpi_id"]) if registry is not None else None
        direction = kpi.desired_direction if kpi is not None and kpi.desired_direction in ("up", "down") else "up"
        held = None
        if goal["target_value"] == goal["baseline"]:  # maintain: share of periods since the start holding the level
            since = [v for p, v in goal_points(goal, series, as_of) if _period_end(p) >= goal["start_date"]]
            held = sum(holds_level(v, goal["target_value"], direction) for v in since) / len(since) if since else None
        pacing = pace_goal(goal["goal_id"], goal["baseline"], goal["target_value"], goal["start_date"],
                           goal["deadline"], value, as_of, held_share=held, direction=direction)
        rows.append({"goal_id": goal["goal_id"], "title": goal.get("title"), "kpi_id": goal["kpi_id"],
                     "department_code": goal.get("department_code"), "owner": goal.get("owner"),
                     "measure": "cumulative" if cumulative else "level",
                     **{k: v for k, v in asdict(pacing).items() if k != "goal_id"}})
    return pd.DataFrame(rows)
