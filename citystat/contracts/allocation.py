"""Awarding the rest of the season's work by grade (Boston: the final quarter's work goes by grade).

The work to award is every planned mile of the season's contracts not completed on the grading day
(a withdrawn contract's remaining miles included). Rules, in order (docs/contracts_performance.md,
"Final-quarter allocation"):

1. a withdrawn contract gets nothing;
2. every other contract gets the minimum share of the work (``min_share``, default 10%), capped by its
   capacity — ungraded contracts (no completed work yet) get only this;
3. the rest goes to graded contracts in proportion to their scores, only to those graded at least
   ``extra_min_grade`` (default C) while any of them has capacity left, else to all graded ones;
   a contract never gets more than its capacity: what a capped contract cannot take is shared again
   among the others in proportion to their scores;
4. work nobody has capacity for is left ``unallocated`` (to rebid or do in house);
5. miles are rounded to 0.01; the rounding difference goes to the best-ranked contract with room
   (rank: score, then progression points, then incidents per mile, then vendor id). Equal scores get
   equal proportional shares.

Capacity: ``capacity_headroom`` (default 1.5) times the larger of what the contract's pace so far would
deliver in the days left (miles completed / days from season start to the grading day x days left) and
its own remaining planned miles (the crews it planned for the rest of the season).
"""
from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from citystat.contracts.grading import NO_GRADE

UNALLOCATED = "unallocated"
ALLOCATION_COLUMNS = [
    "season_year", "graded_on", "contract_id", "vendor_id", "vendor_name", "region", "status", "grade", "score",
    "rank", "pool_miles", "own_remaining_miles", "capacity_miles", "minimum_miles", "extra_miles",
    "allocated_miles", "allocated_share", "rule",
]


@dataclass(frozen=True)
class AllocationRules:
    min_share: float = 0.10
    capacity_headroom: float = 1.5
    extra_min_grade: str = "C"
    grade_order: tuple[str, ...] = ("A", "B", "C", "D", "F")

    def __post_init__(self):
        if not 0 <= self.min_share <= 1:
            raise ValueError(f"min_share {self.min_share} must be between 0 and 1")
        if self.capacity_headroom <= 0:
            raise ValueError(f"capacity_headroom {self.capacity_headroom} must be positive")
        if self.extra_min_grade not in self.grade_order:
            raise ValueError(f"extra_min_grade {self.extra_min_grade!r} is not one of {', '.join(self.grade_order)}")

    def earns_extra(self, grade: str) -> bool:
        return grade in self.grade_order and self.grade_order.index(grade) <= self.grade_order.index(self.extra_min_grade)


def capacity_miles(grades: pd.DataFrame, contracts: pd.DataFrame, rules: AllocationRules = AllocationRules()) -> pd.Series:
    """Each contract's capacity for the rest of the season (miles, by contract_id)."""
    terms = contracts.set_index("contract_id")[["start_date", "end_date"]]
    out = {}
    for g in grades.itertuples(index=False):
        start, end = terms.loc[g.contract_id, "start_date"], terms.loc[g.contract_id, "end_date"]
        elapsed = max(1, (g.graded_on - start).days + 1)
        left = max(0, (end - g.graded_on).days)
        at_pace = float(g.miles_completed or 0) / elapsed * left
        out[g.contract_id] = round(max(at_pace, _remaining(g)) * rules.capacity_headroom, 2)
    return pd.Series(out, dtype=float)


def _remaining(g) -> float:
    planned = 0.0 if g.planned_miles is None or pd.isna(g.planned_miles) else float(g.planned_miles)
    return round(max(0.0, planned - float(g.miles_completed or 0)), 2)


def allocate(grades: pd.DataFrame, contracts: pd.DataFrame, rules: AllocationRules = AllocationRules(),
             capacity: pd.Series | None = None) -> pd.DataFrame:
    """Allocation of the remaining work of each season in ``grades`` (output of ``grade_contracts``).
    ``capacity`` (miles by contract_id) overrides the pace-based capacities."""
    frames = [_allocate_season(season, rules, contracts, capacity) for _, season in grades.groupby("season_year", sort=True)]
    if not frames:
        return pd.DataFrame(columns=ALLOCATION_COLUMNS)
    return pd.concat(frames, ignore_index=True)


def _allocate_season(season: pd.DataFrame, rules: AllocationRules, contracts: pd.DataFrame, capacity) -> pd.DataFrame:
    season = season.sort_values("rank").reset_index(drop=True)
    caps = capacity_miles(season, contracts, rules)
    if capacity is not None:
        caps.update(capacity.astype(float))
    remaining = {g.contract_id: _remaining(g) for g in season.itertuples()}
    pool = round(sum(remaining.values()), 2)
    rows = {g.contract_id: {
        "season_year": g.season_year, "graded_on": g.graded_on, "contract_id": g.contract_id, "vendor_id": g.vendor_id,
        "vendor_name": g.vendor_name, "region": g.region, "status": g.status, "grade": g.grade, "score": g.score,
        "rank": g.rank, "pool_miles": pool, "own_remaining_miles": remaining[g.contract_id],
        "capacity_miles": 0.0 if g.status == "withdrawn" else float(caps[g.contract_id]),
        "minimum_miles": 0.0, "extra_miles": 0.0, "rule": [],
    } for g in season.itertuples()}

    # 1-2: withdrawn get nothing; everyone else the minimum share, within capacity
    taking = [g for g in season.itertuples() if g.status != "withdrawn"]
    for g in season.itertuples():
        if g.status == "withdrawn":
            rows[g.contract_id]["rule"].append(
                f"withdrawn: gets nothing; its {remaining[g.contract_id]:.2f} remaining mi go to the others")
    for g in taking:
        row = rows[g.contract_id]
        row["minimum_miles"] = min(rules.min_share * pool, row["capacity_miles"])
        capped = " (capped by capacity)" if row["minimum_miles"] < rules.min_share * pool - 1e-9 else ""
        row["rule"].append(f"minimum {rules.min_share:.0%} of {pool:.2f} mi = {row['minimum_miles']:.2f} mi{capped}")
        if g.grade == NO_GRADE:
            row["rule"].append("not graded (no completed work): minimum share only")

    # 3: the rest in proportion to score, to contracts graded well enough while they have room
    rest = pool - sum(r["minimum_miles"] for r in rows.values())
    graded = [g for g in taking if g.grade != NO_GRADE]
    preferred = [g for g in graded if rules.earns_extra(g.grade)]
    for group, label in ((preferred, f"graded {rules.extra_min_grade} or better"), (graded, "graded")):
        rest = _share_by_score(group, rows, rest, label)
        if rest <= 1e-9:
            break
    for g in graded:
        if g not in preferred and rows[g.contract_id]["extra_miles"] == 0:
            rows[g.contract_id]["rule"].append(
                f"graded {g.grade}, below {rules.extra_min_grade}: no share of the rest while better-graded contracts have room")

    # 4-5: round, hand the rounding difference to the best-ranked contract with room, report what is left
    for row in rows.values():
        row["allocated_miles"] = round(row["minimum_miles"] + row["extra_miles"], 2)
    unallocated = round(max(0.0, rest), 2)
    difference = round(pool - unallocated - sum(r["allocated_miles"] for r in rows.values()), 2)
    if difference:
        for g in taking:  # already in rank order
            row = rows[g.contract_id]
            if row["allocated_miles"] + difference <= row["capacity_miles"] + 1e-9 and row["allocated_miles"] + difference >= 0:
                row["allocated_miles"] = round(row["allocated_miles"] + difference, 2)
                row["rule"].append(f"rounding difference {difference:+.2f} mi (best-ranked contract with room)")
                break
        else:
            unallocated = round(unallocated + difference, 2)
    out = []
    for row in rows.values():
        row["allocated_share"] = row["allocated_miles"] / pool if pool else 0.0
        row["minimum_miles"] = round(row["minimum_miles"], 2)
        row["extra_miles"] = round(row["extra_miles"], 2)
        row["rule"] = "; ".join(row["rule"])
        out.append(row)
    if unallocated > 0:
        first = season.iloc[0]
        out.append({
            "season_year": first["season_year"], "graded_on": first["graded_on"], "contract_id": None, "vendor_id": None,
            "vendor_name": None, "region": None, "status": UNALLOCATED, "grade": None, "score": None, "rank": None,
            "pool_miles": pool, "own_remaining_miles": None, "capacity_miles": None, "minimum_miles": 0.0,
            "extra_miles": 0.0, "allocated_miles": unallocated, "allocated_share": unallocated / pool if pool else 0.0,
            "rule": "no contract had capacity left for this work: rebid or do in house",
        })
    return pd.DataFrame(out, columns=ALLOCATION_COLUMNS)


def _share_by_score(group, rows: dict, rest: float, label: str) -> float:
    """Share ``rest`` among ``group`` in proportion to score, never past a contract's capacity (water-filling).
    Returns what could not be placed."""
    open_ = [g for g in group if rows[g.contract_id]["capacity_miles"] - _taken(rows[g.contract_id]) > 1e-9]
    while rest > 1e-9 and open_:
        total = sum(float(g.score) for g in open_)
        weights = {g.contract_id: (float(g.score) / total if total > 0 else 1 / len(open_)) for g in open_}
        capped = [g for g in open_ if rest * weights[g.contract_id] > rows[g.contract_id]["capacity_miles"] - _taken(rows[g.contract_id]) + 1e-9]
        if not capped:
            for g in open_:
                share = rest * weights[g.contract_id]
                rows[g.contract_id]["extra_miles"] += share
                rows[g.contract_id]["rule"].append(
                    f"score {g.score:.1f} of {total:.1f} among {label} contracts with room: {share:.2f} mi of the rest")
            return 0.0
        for g in capped:
            room = rows[g.contract_id]["capacity_miles"] - _taken(rows[g.contract_id])
            rows[g.contract_id]["extra_miles"] += room
            rows[g.contract_id]["rule"].append(f"capacity {rows[g.contract_id]['capacity_miles']:.2f} mi reached: +{room:.2f} mi")
            rest -= room
        open_ = [g for g in open_ if g not in capped]
    return rest


def _taken(row: dict) -> float:
    return row["minimum_miles"] + row["extra_miles"]
