"""Performance payments of results-driven contracts: what each contract earned, line by line.

One line per benchmark (the contract's milestones) and per penalty, each with the arithmetic an officer
can redo by hand: component, benchmark, target, actual, weight, pool share, earned, penalty, reason.
Rules (docs/contracts_performance.md, "Performance payments"):

* a benchmark is assessed on its due date, once the reports reach it; met (actual >= target) earns its
  whole pool share (weight x performance pool), missed earns nothing — no partial credit;
* progression: segments completed by the due date / planned segments (every segment in the contract's
  reports); quality: completed segments without rework within the warranty / completed segments;
  parking / environmental: completed segments without such an incident / completed segments;
* benchmarks not yet due are ``pending``; a withdrawn contract forfeits its pending benchmarks;
* penalties: ``penalty_per_incident`` for each parking or environmental incident, charged in the month
  the segment completed (or at the contract's end for segments left open); ``penalty_per_day_late``
  for each day the last completion falls after the contract's end date, charged once the end date passes.
"""
from __future__ import annotations

import pandas as pd

from citystat.contracts.inputs import ContractData
from citystat.contracts.segments import state_on, unreported

LINE_COLUMNS = [
    "contract_id", "vendor_id", "season_year", "line_no", "period", "line_kind", "component", "milestone_id",
    "benchmark", "due_date", "assessed_on", "target", "actual", "weight", "pool_share", "earned", "penalty",
    "net", "status", "reason",
]
WEIGHT_TOLERANCE = 0.001


def money(x: float) -> str:
    sign, x = ("-" if x < 0 else ""), abs(float(x))
    return f"{sign}${x:,.0f}" if x.is_integer() or x >= 1000 else f"{sign}${x:,.2f}"


def _month_end(day: pd.Timestamp) -> pd.Timestamp:
    return day + pd.offsets.MonthEnd(0)


def payment_lines(data: ContractData) -> pd.DataFrame:
    """Every payment line of every results-driven contract, as of ``data.data_through``."""
    lines: list[dict] = []
    for contract in data.contracts.itertuples(index=False):
        milestones = data.milestones[data.milestones["contract_id"] == contract.contract_id]
        segments = data.segments[data.segments["contract_id"] == contract.contract_id]
        contract_lines = _weight_note(contract, milestones)
        states: dict[pd.Timestamp, pd.DataFrame] = {}  # milestones share due dates: one state per day
        for milestone in milestones.sort_values(["due_date", "milestone_id"]).itertuples(index=False):
            if milestone.due_date not in states:
                states[milestone.due_date] = state_on(segments, data.contracts, milestone.due_date)
            contract_lines.append(_benchmark_line(contract, milestone, states[milestone.due_date], data))
        contract_lines += _incident_penalties(contract, segments, data)
        contract_lines += _days_late_penalty(contract, segments, data)
        for n, line in enumerate(contract_lines, start=1):
            line.update(contract_id=contract.contract_id, vendor_id=contract.vendor_id,
                        season_year=contract.season_year, line_no=n)
            line["net"] = line["earned"] - line["penalty"]
            lines.append(line)
    frame = pd.DataFrame(lines, columns=LINE_COLUMNS)
    return frame.astype({"earned": float, "penalty": float, "net": float, "pool_share": float})


def _line(**values) -> dict:
    base = dict(period=None, line_kind="benchmark", component=None, milestone_id=None, benchmark=None, due_date=None,
                assessed_on=None, target=None, actual=None, weight=None, pool_share=0.0, earned=0.0, penalty=0.0,
                status=None, reason=None)
    base.update(values)
    return base


def _weight_note(contract, milestones: pd.DataFrame) -> list[dict]:
    total = float(milestones["weight"].sum()) if len(milestones) else 0.0
    if abs(total - 1) <= WEIGHT_TOLERANCE:
        return []
    pool = float(contract.performance_pool or 0)
    unpayable = pool * max(0.0, 1 - total)
    return [_line(line_kind="note", component="weights", period=contract.start_date.strftime("%Y-%m"),
                  benchmark="benchmark weights sum to 1", target=1.0, actual=round(total, 4), status="note",
                  reason=(f"the contract's {len(milestones)} benchmark weights sum to {total:.2f}, not 1: "
                          f"{money(unpayable)} of the {money(pool)} pool has no benchmark and cannot be earned")
                  if total < 1 else f"the benchmark weights sum to {total:.2f}: more than the pool can be earned")]


def _benchmark_line(contract, milestone, states: pd.DataFrame, data: ContractData) -> dict:
    pool = float(contract.performance_pool or 0)
    share = float(milestone.weight) * pool
    due = milestone.due_date
    line = _line(period=due.strftime("%Y-%m"), component=milestone.metric, milestone_id=milestone.milestone_id,
                 benchmark=milestone.milestone_name, due_date=due, target=float(milestone.target_share),
                 weight=float(milestone.weight), pool_share=share)
    of_pool = f"{milestone.weight:.0%} of the {money(pool)} pool = {money(share)}"
    if due > data.data_through:
        if contract.status == "withdrawn":
            return {**line, "status": "forfeited",
                    "reason": f"contract withdrawn before the benchmark fell due ({due:%Y-%m-%d}): nothing earned of {of_pool}"}
        return {**line, "status": "pending",
                "reason": f"due {due:%Y-%m-%d}, after the latest report ({data.data_through:%Y-%m-%d}): not assessed yet"}
    line["assessed_on"] = due
    completed = int(states["completed"].sum())
    if milestone.metric == "progression":
        planned = len(states)
        if planned == 0:
            return {**line, "status": "missed",
                    "reason": f"no segments in the contract's reports by {due:%Y-%m-%d}: no work to count, nothing earned of {of_pool}"}
        actual = completed / planned
        what = f"{completed} of {planned} planned segments completed by {due:%Y-%m-%d}"
        unverified = int(unreported(states, data.data_through).sum())
        if unverified:
            what += f" ({unverified} left the reports without a completion row: not counted)"
    else:
        if completed == 0:
            return {**line, "status": "missed",
                    "reason": f"no segments completed by {due:%Y-%m-%d}: nothing to assess, nothing earned of {of_pool}"}
        done = states[states["completed"]]
        if milestone.metric == "quality":
            good = int((~done["rework"]).sum())
            what = (f"{completed - good} of {completed} segments completed by {due:%Y-%m-%d} needed rework within the "
                    f"{int(contract.warranty_months or 0)}-month warranty; {good} without")
        else:
            column = f"{milestone.metric}_incidents"
            good = int((done[column].fillna(0) == 0).sum())
            what = f"{good} of {completed} segments completed by {due:%Y-%m-%d} had no {milestone.metric} incident"
        actual = good / completed
    met = actual >= float(milestone.target_share) - 1e-9
    sign = ">=" if met else "<"
    outcome = f"met, earned {of_pool}" if met else f"missed, earned $0 of {money(share)}"
    return {**line, "actual": round(actual, 4), "status": "met" if met else "missed", "earned": share if met else 0.0,
            "reason": f"{what}: {actual:.3f} {sign} target {milestone.target_share:.3f}: {outcome}"}


def _incident_penalties(contract, segments: pd.DataFrame, data: ContractData) -> list[dict]:
    rate = float(contract.penalty_per_incident or 0)
    states = state_on(segments, data.contracts, data.data_through)
    closed = states[states["closed_out"]].copy()
    if closed.empty:
        return []
    closed["closed_on"] = closed["actual_end"].where(closed["completed"], contract.end_date)
    closed["period"] = closed["closed_on"].dt.strftime("%Y-%m")
    lines = []
    for period, group in closed.groupby("period", sort=True):
        for kind in ("parking", "environmental"):
            counts = group[f"{kind}_incidents"].fillna(0).astype(int)
            total = int(counts.sum())
            if total == 0:
                continue
            hit = sorted(group.loc[counts > 0, "segment_id"].tolist())  # the same text whatever the input's row order
            open_note = "" if group["completed"].all() else " (segments still open at the contract's end are charged then)"
            lines.append(_line(
                period=period, line_kind="penalty", component=f"{kind}_incidents",
                benchmark=f"{kind} incidents on segments closed out in {period}",
                assessed_on=min(_month_end(group["closed_on"].max()), data.data_through), target=0.0, actual=float(total),
                penalty=total * rate, status="charged",
                reason=(f"{total} {kind} incident(s) on {len(hit)} segment(s) completed in {period} "
                        f"({', '.join(hit)}){open_note}: {total} x {money(rate)} = {money(total * rate)}"),
            ))
    return lines


def _days_late_penalty(contract, segments: pd.DataFrame, data: ContractData) -> list[dict]:
    end = contract.end_date
    if data.data_through < end:
        return []
    rate = float(contract.penalty_per_day_late or 0)
    states = state_on(segments, data.contracts, data.data_through)
    completed = states[states["completed"]]
    line = _line(period=end.strftime("%Y-%m"), line_kind="penalty", component="days_late",
                 benchmark=f"planned segments completed by the end date {end:%Y-%m-%d}", target=0.0, status="charged")
    if completed.empty:
        return [{**line, "assessed_on": end, "actual": 0.0,
                 "reason": "no segment completed: no completion date to be late by (the unfinished work misses the progression benchmarks instead)"}]
    last = completed["actual_end"].max()
    days = max(0, (last - end).days)
    open_count = int((~states["completed"]).sum())
    open_note = (f"; {open_count} segment(s) not completed are not charged per day (they miss the progression benchmarks)"
                 if open_count else "")
    return [{**line, "assessed_on": min(max(end, last), data.data_through), "actual": float(days), "penalty": days * rate,
             "reason": (f"last completion {last:%Y-%m-%d}, end date {end:%Y-%m-%d}: {days} day(s) late x {money(rate)} "
                        f"= {money(days * rate)}{open_note}")}]


def contract_totals(lines: pd.DataFrame, as_of: pd.Series | None = None) -> pd.DataFrame:
    """Per contract: performance earned, penalties and net, counting lines assessed by ``as_of`` (by contract_id)."""
    assessed = lines[lines["assessed_on"].notna()]
    if as_of is not None:
        assessed = assessed[pd.to_datetime(assessed["assessed_on"]) <= assessed["contract_id"].map(as_of)]
    totals = assessed.groupby("contract_id")[["earned", "penalty", "net"]].sum()
    return totals.rename(columns={"earned": "performance_earned", "penalty": "penalties", "net": "performance_net"})
