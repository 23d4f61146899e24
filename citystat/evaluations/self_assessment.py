"""The What Works Cities self-assessment, computed from CityStat's own metadata (``metrics.wwc_self_assessment``).

One row per criterion: met / partly met / not met, with the evidence (warehouse tables, dashboard pages) and the
numbers behind the call; criteria the system holds no evidence for are "cannot judge", never guessed. The
indicative level follows the certification's bands on the share of judged criteria met (partly met counts
half): silver 51-66%, gold 67-83%, platinum above. It is indicative only: certification also weighs criteria
the system cannot see. Rules per criterion: ``CRITERIA`` below and docs/evaluations.md.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import duckdb
import pandas as pd

from citystat.warehouse import columns_of, fetch, has_table, quote_table, scalar

MET, PARTLY, NOT_MET, CANNOT = "met", "partly met", "not met", "cannot judge"
TABLE = "metrics.wwc_self_assessment"

COLUMN_DOCS = {
    "criterion_id": "short id (practice area prefix)",
    "practice": "What Works Cities practice area",
    "criterion": "the criterion, as the system checks it",
    "status": "met / partly met / not met / cannot judge (no evidence in the system: never guessed)",
    "evidence": "where the evidence is: warehouse tables and dashboard pages",
    "detail": "the numbers behind the call",
    "rule": "how met / partly met / not met is decided",
}


@dataclass(frozen=True)
class Call:
    status: str
    detail: str


class _Evidence:
    """Read-only questions about the warehouse; a missing table or column answers None, not an error."""

    def __init__(self, con: duckdb.DuckDBPyConnection):
        self.con = con

    def rows(self, table: str, where: str = "") -> int | None:
        if not has_table(self.con, table):
            return None
        return int(scalar(self.con, f"select count(*) from {quote_table(table)} {('where ' + where) if where else ''}"))

    def has(self, table: str, *columns: str) -> bool:
        return has_table(self.con, table) and all(c in columns_of(self.con, table) for c in columns)

    def value(self, sql: str):
        return scalar(self.con, sql)


def _missing(table: str) -> Call:
    return Call(NOT_MET, f"{table} is not in the warehouse (never built, or its register was removed)")


def _share_call(n: int, total: int, what: str, met_at: float = 1.0) -> Call:
    if not total:
        return Call(NOT_MET, f"no {what}")
    share = n / total
    status = MET if share >= met_at else PARTLY if n else NOT_MET
    return Call(status, f"{n}/{total} {what} ({share:.0%})")


# ---- the criteria ------------------------------------------------------------------------------------------

def _inventory_kept(e: _Evidence) -> Call:
    t = "inventory.criterion"
    if not e.has(t, "part", "met"):
        return _missing(t)
    parts = [(r["part"], r["met"]) for r in fetch(e.con, f"select part, met from {quote_table(t)}")]
    met = sum(bool(m) for _, m in parts)
    missing = ", ".join(p for p, m in parts if not m)
    detail = f"{met}/{len(parts)} parts met" + (f" (not met: {missing})" if missing else "") + "; 3 of 4 meets it"
    return Call(MET if met >= 3 else PARTLY if met else NOT_MET, detail)


def _owners(e: _Evidence) -> Call:
    t = "inventory.datasets"
    if not e.has(t, "owner", "steward"):
        return _missing(t)
    total = e.rows(t)
    named = e.rows(t, "coalesce(trim(owner), '') <> '' and coalesce(trim(steward), '') <> ''")
    return _share_call(named, total, "inventoried datasets with a named owner and steward")


def _quality(e: _Evidence) -> Call:
    t = "quality.dataset_scores"
    n = e.rows(t)
    if n is None:
        return _missing(t)
    return Call(MET if n else NOT_MET, f"{n} dataset quality score row(s)")


def _published(e: _Evidence) -> Call:
    t = "inventory.datasets"
    if not e.has(t, "access_level", "publication_status"):
        return _missing(t)
    public = e.rows(t, "access_level = 'public'")
    published = e.rows(t, "access_level = 'public' and publication_status = 'published'")
    call = _share_call(published, public, "public datasets published on the open data portal")
    return call if public else Call(NOT_MET, "no dataset is classed public in the inventory")


def _catalog_online(e: _Evidence) -> Call:
    t = "inventory.criterion"
    if not e.has(t, "part", "met", "detail"):
        return _missing(t)
    found = [(r["met"], r["detail"]) for r in fetch(e.con, f"select met, detail from {quote_table(t)} where part = 'published online'")]
    row = found[0] if found else None
    if row is None:
        return Call(NOT_MET, "the inventory criterion has no 'published online' part")
    return Call(MET if row[0] else NOT_MET, row[1])


def _goals(e: _Evidence) -> Call:
    t = "metrics.goal_progress"
    if not e.has(t, "goal_id", "progress"):
        return _missing(t)
    total = e.rows(t)
    tracked = e.rows(t, "progress is not null")
    if not total:
        return Call(NOT_MET, "the strategic goals register is empty")
    return _share_call(tracked, total, "strategic goals with measured progress")


def _kpis(e: _Evidence) -> Call:
    t = "metrics.kpi_status"
    if not e.has(t, "kpi_id", "period", "status"):
        return _missing(t)
    latest = e.value(f"select max(period) from {quote_table(t)} where length(period) = 7")
    if latest is None:
        return Call(NOT_MET, "no monthly KPI status")
    total = e.rows(t, f"period = '{latest}'")
    judged = e.rows(t, f"period = '{latest}' and status <> 'gray'")
    return _share_call(judged, total, f"KPIs with a value and a target in {latest}", met_at=0.8)


def _stat_followups(e: _Evidence) -> Call:
    flags, actions = "metrics.flags", "metrics.flag_actions"
    if not e.has(flags, "flag_id"):
        return _missing(flags)
    n_flags = e.rows(flags)
    if not e.has(actions, "flag_id", "source"):
        return Call(PARTLY if n_flags else NOT_MET, f"{n_flags} flag(s) raised; {actions} is missing")
    followed = e.value(f"select count(distinct flag_id) from {quote_table(actions)} where source <> 'engine'") or 0
    if not n_flags:
        return Call(NOT_MET, "no flag raised for a stat meeting")
    call = _share_call(int(followed), n_flags, "flags with a follow-up action logged by staff (not the engine)", met_at=0.5)
    if call.status == NOT_MET:  # the meetings' agenda exists, their follow-ups are not recorded
        return Call(PARTLY, f"{n_flags} flag(s) raised for stat meetings; none has a follow-up action logged by staff")
    return call


def _contracts(e: _Evidence) -> Call:
    t = "metrics.contract_grades"
    if not e.has(t, "contract_id", "grade"):
        return _missing(t)
    total = e.rows(t)
    graded = e.rows(t, "grade is not null and grade <> 'none'")
    if not total:
        return Call(NOT_MET, "no results-driven contract")
    return _share_call(graded, total, "results-driven contract seasons graded on outcome metrics")


def _payments(e: _Evidence) -> Call:
    t = "metrics.contract_payments"
    if not e.has(t, "line_kind"):
        return _missing(t)
    n = e.rows(t, "line_kind = 'benchmark'")
    return Call(MET if n else NOT_MET, f"{n} performance-payment benchmark line(s)")


def _evaluations_run(e: _Evidence) -> Call:
    t = "metrics.evaluation_results"
    if not e.has(t, "evaluation_id", "status"):
        return _missing(t)
    total = e.value(f"select count(distinct evaluation_id) from {quote_table(t)}") or 0
    reported = e.value(f"select count(distinct evaluation_id) from {quote_table(t)} where status = 'reported' and effect is not null") or 0
    if not total:
        return Call(NOT_MET, "no evaluation registered")
    return Call(MET if reported else PARTLY, f"{reported} of {total} registered evaluation(s) reported with an estimate")


def _preregistered(e: _Evidence) -> Call:
    t = "metrics.evaluation_results"
    if not e.has(t, "evaluation_id", "is_primary", "pre_registered"):
        return _missing(t)
    total = e.value(f"select count(distinct evaluation_id) from {quote_table(t)}") or 0
    pre = e.value(f"select count(distinct evaluation_id) from {quote_table(t)} where is_primary and pre_registered") or 0
    return _share_call(int(pre), int(total), "evaluations with a pre-registered primary outcome")


def _failing(e: _Evidence) -> Call:
    t = "metrics.failing_programmes"
    n = e.rows(t)
    if n is None:
        return _missing(t)
    return Call(MET, f"failing-programme review run: {n} consistently failing site(s) or outcome KPI(s) identified")


def _repurposing(e: _Evidence) -> Call:
    t = "metrics.repurposing_candidates"
    if not e.has(t, "alternative_site_id"):
        return _missing(t)
    n = e.rows(t, "alternative_site_id is not null")
    if not n:
        return Call(NOT_MET, "no repurposing candidate with an alternative")
    return Call(PARTLY, f"{n} candidate move(s) with estimated savings; the system holds no record that funds were shifted")


def _cannot(reason: str) -> Callable[[_Evidence], Call]:
    return lambda e: Call(CANNOT, reason)


# (id, practice, criterion, evidence, rule, check)
CRITERIA: list[tuple[str, str, str, str, str, Callable[[_Evidence], Call]]] = [
    ("OD1", "Open data", "An open data policy is in place (law, executive order or policy)", "",
     "not held in the system", _cannot("a policy is a legal document; the system holds none")),
    ("OD2", "Open data", "Public datasets are published on the open data portal", "inventory.datasets; dashboards: inventory",
     "met: every public dataset published; partly: some", _published),
    ("OD3", "Open data", "The data catalog is published online (data.json)", "inventory.criterion",
     "the inventory criterion's 'published online' part", _catalog_online),
    ("OD4", "Open data", "Data is reviewed for personal information before publication", "",
     "not held in the system", _cannot("review decisions are not recorded (fields' sensitivity is, in inventory.fields)")),
    ("DG1", "Data governance", "A data inventory is kept: update method, updated in 12 months, > 80% of departments, online",
     "inventory.criterion; inventory.departments", "met: 3 of 4 parts; partly: 1-2", _inventory_kept),
    ("DG2", "Data governance", "Every dataset has a named owner and steward", "inventory.datasets",
     "met: all; partly: some", _owners),
    ("DG3", "Data governance", "Data quality is monitored", "quality.dataset_scores", "met: scores computed", _quality),
    ("DG4", "Data governance", "A chief data officer or governance committee leads the work", "",
     "not held in the system", _cannot("roles and committees are not recorded")),
    ("PA1", "Performance analytics", "Public strategic goals with progress tracked", "metrics.goal_progress; dashboards: goals",
     "met: every goal has progress; partly: some; not met: no goals register", _goals),
    ("PA2", "Performance analytics", "KPIs reported against targets every month", "metrics.kpi_status; dashboards: scorecard",
     "met: >= 80% of KPIs green/yellow/red (not gray) in the latest month; partly: some", _kpis),
    ("PA3", "Performance analytics", "Stat meetings held, with follow-up on commitments",
     "metrics.flags; metrics.flag_actions", "met: >= 50% of flags have a staff action; partly: flags raised, fewer followed up", _stat_followups),
    ("EV1", "Low-cost evaluations", "Rigorous evaluations run and reported", "metrics.evaluation_results; dashboards: evaluations",
     "met: at least one reported with an estimate; partly: registered, none reported yet", _evaluations_run),
    ("EV2", "Low-cost evaluations", "Evaluations pre-register their primary outcome", "metrics.evaluation_results",
     "met: every evaluation; partly: some", _preregistered),
    ("EV3", "Low-cost evaluations", "Evaluation results inform decisions", "", "not held in the system",
     _cannot("decisions taken on the results are not recorded")),
    ("RC1", "Results-driven contracting", "Key contracts have outcome metrics and are graded",
     "metrics.contract_grades; dashboards: contracts", "met: every contract season graded; partly: some", _contracts),
    ("RC2", "Results-driven contracting", "Payments are aligned with outcomes", "metrics.contract_payments",
     "met: performance-payment benchmarks exist", _payments),
    ("RP1", "Repurposing for results", "Failing programmes are identified", "metrics.failing_programmes; dashboards: budget",
     "met: the review ran", _failing),
    ("RP2", "Repurposing for results", "Funds are shifted from failing programmes to what works",
     "metrics.repurposing_candidates; dashboards: budget",
     "partly: candidates with savings identified (shifts are not recorded); not met: none", _repurposing),
]


def assess(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """One row per criterion (COLUMN_DOCS columns)."""
    evidence = _Evidence(con)
    rows = []
    for cid, practice, criterion, tables, rule, check in CRITERIA:
        call = check(evidence)
        rows.append({"criterion_id": cid, "practice": practice, "criterion": criterion, "status": call.status,
                     "evidence": tables or "none in the system", "detail": call.detail, "rule": rule})
    return pd.DataFrame(rows, columns=list(COLUMN_DOCS))


def level(table: pd.DataFrame) -> dict:
    """The indicative certification level from the judged criteria (partly met counts half)."""
    judged = table[table["status"] != CANNOT]
    points = (judged["status"] == MET).sum() + 0.5 * (judged["status"] == PARTLY).sum()
    share = float(points / len(judged)) if len(judged) else 0.0
    name = ("platinum" if share > 0.83 else "gold" if share >= 0.67 else "silver" if share >= 0.51 else "below silver")
    return {"judged": int(len(judged)), "cannot_judge": int(len(table) - len(judged)), "share": round(share, 3),
            "level": name, **{s.replace(" ", "_"): int((table["status"] == s).sum()) for s in (MET, PARTLY, NOT_MET, CANNOT)}}


def write_self_assessment(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    from citystat.warehouse import write_table

    table = assess(con)
    summary = level(table)
    write_table(con, TABLE, table,
                f"What Works Cities self-assessment from CityStat's own metadata: met / partly met / not met with the "
                f"evidence, 'cannot judge' where the system holds none. Indicative level: {summary['level']} "
                f"({summary['share']:.0%} of {summary['judged']} judged criteria; partly met counts half).", COLUMN_DOCS)
    return table
