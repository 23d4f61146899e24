"""In-season grading: each contract scored 0-100 from its outcome metrics on the grading day, and a letter.

The grading day is ``at`` of the way through the contract's season (default 0.75, Boston's asphalt
contracts), computed like the portal's due dates. Only what was known that day counts: segments
completed by then (see ``segments``). Each component turns one metric into 0-100 points on a straight
line between the value worth 0 and the value worth 100 (clipped), and the score is the weighted mean
of the components that could be measured; a component with no data (e.g. no PCI readings) is left out
and its weight shared by the others, with a note. A contract with no completed work gets no score and
the grade ``none`` (gray). Rules: docs/contracts_performance.md, "In-season grading".
"""
from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from citystat.contracts.inputs import ContractData
from citystat.contracts.performance import contract_metrics
from citystat.contracts.segments import season_date

NO_GRADE = "none"


@dataclass(frozen=True)
class Component:
    name: str
    metric: str  # a contract_metrics column
    zero_at: float  # the value worth 0 points
    full_at: float  # the value worth 100 points
    weight: float
    label: str

    def points(self, value) -> float | None:
        if value is None or pd.isna(value):
            return None
        span = self.full_at - self.zero_at
        return float(min(1.0, max(0.0, (float(value) - self.zero_at) / span)) * 100)


COMPONENTS = (
    Component("progression", "progress_vs_plan", 0.5, 1.0, 0.25, "segments completed / segments scheduled to be finished"),
    Component("timeliness", "avg_days_late", 14.0, 0.0, 0.15, "mean days late of completed segments"),
    Component("pavement_quality", "avg_pci_after", 70.0, 90.0, 0.15, "mean PCI after resurfacing"),
    Component("rework", "rework_share", 0.25, 0.0, 0.15, "share of completed segments needing rework"),
    Component("parking", "parking_per_mile", 5.0, 0.0, 0.15, "parking incidents per mile"),
    Component("environmental", "environmental_per_mile", 2.0, 0.0, 0.15, "environmental incidents per mile"),
)
LETTERS = ((90.0, "A"), (80.0, "B"), (70.0, "C"), (60.0, "D"), (0.0, "F"))


@dataclass(frozen=True)
class GradingRules:
    at: float = 0.75
    components: tuple[Component, ...] = COMPONENTS
    letters: tuple[tuple[float, str], ...] = LETTERS  # (lowest score, letter), best first

    def __post_init__(self):
        if not 0 < self.at <= 1:
            raise ValueError(f"grading point {self.at} must be a share of the season between 0 (excluded) and 1")
        total = sum(c.weight for c in self.components)
        if abs(total - 1) > 1e-9:
            raise ValueError(f"grading component weights sum to {total}, not 1")

    def letter(self, score: float | None) -> str:
        if score is None or pd.isna(score):
            return NO_GRADE
        return next(letter for floor, letter in self.letters if score >= floor - 1e-9)


HEAD_COLUMNS = ["season_year", "contract_id", "vendor_id", "vendor_name", "region", "status", "graded_at_share",
                "graded_on", "data_through", "score", "grade", "rank"]
CONTEXT_COLUMNS = ["segments_completed", "segments_due", "miles_completed", "planned_miles", "pci_readings",
                   "segments_missing_pci", "complaints_per_mile", "evidence", "notes"]


def grading_day(contracts: pd.DataFrame, at: float) -> pd.Series:
    """The grading day of each contract (by contract_id)."""
    return pd.Series([season_date(c.start_date, c.end_date, at) for c in contracts.itertuples()],
                     index=contracts["contract_id"], dtype="datetime64[us]")


def grade_contracts(data: ContractData, rules: GradingRules = GradingRules()) -> pd.DataFrame:
    """One row per contract: score, letter, rank within its season, component points and the evidence."""
    columns = _columns(rules)
    if data.contracts.empty:
        return pd.DataFrame(columns=columns)
    day = grading_day(data.contracts, rules.at)
    metrics = contract_metrics(data, day)
    rows = []
    for m in metrics.to_dict("records"):
        row = {k: m[k] for k in ("season_year", "contract_id", "vendor_id", "vendor_name", "region", "status")}
        row.update(graded_at_share=rules.at, graded_on=day[m["contract_id"]], data_through=min(day[m["contract_id"]], data.data_through))
        notes = [m["notes"]] if isinstance(m["notes"], str) else []
        if day[m["contract_id"]] > data.data_through:
            notes.append(f"graded on the data through {data.data_through:%Y-%m-%d}: the grading day is later than the latest report")
        points = {}
        if m["segments_completed"]:
            for c in rules.components:
                points[c.name] = c.points(m[c.metric])
            unmeasured = [c for c in rules.components if points[c.name] is None]
            if unmeasured:
                notes.append("not measured, weight shared by the other components: "
                             + ", ".join(f"{c.name} ({c.label})" for c in unmeasured))
        measured = [c for c in rules.components if points.get(c.name) is not None]
        weight = sum(c.weight for c in measured)
        score = round(sum(points[c.name] * c.weight for c in measured) / weight, 1) if weight else None
        if score is None:
            notes.append(f"no completed work by {day[m['contract_id']]:%Y-%m-%d}: not graded")
        row.update(score=score, grade=rules.letter(score))
        for c in rules.components:
            row[f"{c.name}_points"] = None if points.get(c.name) is None else round(points[c.name], 1)
            row[c.metric] = m[c.metric]
        for k in ("segments_completed", "segments_due", "miles_completed", "planned_miles", "pci_readings",
                  "segments_missing_pci", "complaints_per_mile"):
            row[k] = m[k]
        row["evidence"] = _evidence(m)
        row["notes"] = "; ".join(notes) or None
        rows.append(row)
    table = pd.DataFrame(rows, columns=columns)
    table["rank"] = _rank(table)
    return table.sort_values(["season_year", "rank"]).reset_index(drop=True)


def _columns(rules: GradingRules) -> list[str]:
    """Head, then each component's points and its metric, then the context and evidence."""
    metrics = list(dict.fromkeys(c.metric for c in rules.components))
    return [*HEAD_COLUMNS, *[f"{c.name}_points" for c in rules.components], *metrics, *CONTEXT_COLUMNS]


def _evidence(m: dict) -> str:
    """The facts behind the score, in words an officer can check against the segment list."""
    def pct(x):
        return "n/a" if x is None or pd.isna(x) else f"{x:.0%}"

    def num(x, fmt=".1f"):
        return "n/a" if x is None or pd.isna(x) else format(x, fmt)

    return (f"{m['segments_completed']} of {m['segments_due']} segments due were completed ({pct(m['progress_vs_plan'])}), "
            f"mean {num(m['avg_days_late'])} days late; PCI after {num(m['avg_pci_after'])} on {m['pci_readings']} reading(s); "
            f"rework {m['segments_rework']} of {m['segments_completed']} ({pct(m['rework_share'])}); "
            f"{m['parking_incidents']} parking and {m['environmental_incidents']} environmental incident(s) on "
            f"{num(m['miles_closed_out'], '.2f')} mi ({num(m['parking_per_mile'], '.2f')} and {num(m['environmental_per_mile'], '.2f')} per mile)")


def _rank(table: pd.DataFrame) -> pd.Series:
    """Rank within the season: score (higher first, ungraded last), then progression points, then fewer
    parking+environmental incidents per mile, then vendor id and contract id (stable, documented tie-break)."""
    def column(name: str, missing: float) -> pd.Series:
        values = table[name] if name in table else pd.Series(None, index=table.index)
        return pd.to_numeric(values, errors="coerce").astype(float).fillna(missing)

    key = table.assign(
        _score=column("score", -1.0),
        _progress=column("progression_points", -1.0),
        _incidents=column("parking_per_mile", 1e9) + column("environmental_per_mile", 1e9),
    ).sort_values(["season_year", "_score", "_progress", "_incidents", "vendor_id", "contract_id"],
                  ascending=[True, False, False, True, True, True])
    ranks = key.groupby("season_year").cumcount() + 1
    return ranks.reindex(table.index)
