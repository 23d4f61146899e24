"""The "Budget repurposing" section of the monthly memo (Markdown), from the budget metrics tables.

``memo_section(con)`` reads ``metrics.failing_programmes``, ``repurposing_candidates``, ``peer_benchmarks``,
``vacant_positions`` and ``budget_scenario`` as the pipeline last wrote them; pass its text to
``citystat.kpi.memo.build_memo(..., extra_sections=[...])``.
"""
from __future__ import annotations

import math

import duckdb
import pandas as pd

from citystat.warehouse import has_table, read
from citystat.budget.vacancies import by_department

TITLE = "Budget repurposing"
TOP = 8


def _cell(x) -> str:
    if x is None or x is pd.NA or (isinstance(x, float) and math.isnan(x)):
        return "–"
    return str(x).replace("|", "\\|")


def _table(headers: list[str], rows: list[list]) -> str:
    lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    lines += ["| " + " | ".join(_cell(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def _money(x) -> str:
    return "–" if x is None or (isinstance(x, float) and math.isnan(x)) else f"${x:,.0f}"


def _metric(con: duckdb.DuckDBPyConnection, table: str) -> pd.DataFrame | None:
    return read(con, f"SELECT * FROM metrics.{table}") if has_table(con, f"metrics.{table}") else None


def _failing(frame: pd.DataFrame | None) -> str:
    if frame is None:
        return "Not computed yet."
    if frame.empty:
        return "No programme, site or outcome KPI is consistently failing."
    rule = frame["rule"].iloc[0]
    rows = [[r.entity_id, r.entity_name, r.program_code, f"{r.red_periods} of {r.window_periods}",
             f"{r.latest_value:,.1f}" if not pd.isna(r.latest_value) else None,
             f"{r.latest_target:,.1f}" if not pd.isna(r.latest_target) else None] for r in frame.head(TOP).itertuples()]
    more = f"\n\n…and {len(frame) - TOP} more in `metrics.failing_programmes`." if len(frame) > TOP else ""
    return (f"{len(frame)} site(s) or outcome KPI(s) {rule}:\n\n"
            + _table(["site / KPI", "name", "programme", "months red", "latest", "target"], rows) + more)


def _candidates(frame: pd.DataFrame | None) -> str:
    if frame is None:
        return "Not computed yet."
    best = frame[frame["alternative_rank"] == 1] if len(frame) else frame
    if best.empty:
        none = frame[frame["alternative_site_id"].isna()] if len(frame) else frame
        return ("Failing sites have no better site nearby with spare places: " + ", ".join(none["failing_site_id"]) + "."
                if len(none) else "No failing site to consolidate.")
    rows = [[f"{r.failing_site_id} {r.failing_site_name}", f"{r.alternative_site_id} {r.alternative_site_name}",
             f"{r.clients_to_move:,.0f}", _money(r.estimated_annual_savings),
             f"{r.failing_outcome_rate:.1f} → {r.alternative_outcome_rate:.1f} (target {r.outcome_target:.0f})"]
            for r in best.itertuples()]
    return (_table(["failing site", "move clients to", "clients", "est. savings / year", "outcome"], rows)
            + f"\n\nAssumptions: {best['assumptions'].iloc[0]}.")


def _peers(frame: pd.DataFrame | None) -> str:
    if frame is None:
        return "Not computed yet."
    if frame.empty:
        return "No peer spending to compare with."
    latest = frame[frame["fiscal_year"] == frame["fiscal_year"].max()]
    flagged = latest[latest["flag"].notna()].sort_values("robust_z", ascending=False)
    year = int(latest["fiscal_year"].iloc[0])
    if flagged.empty:
        return f"In FY{year} every function's spending per resident is within the peer range (robust z within ±3.5)."
    rows = [[r.function_code, f"${r.riverton_per_capita:,.2f}", f"${r.peer_median_per_capita:,.2f}",
             f"{r.ratio_to_peer_median:.2f}×", f"{r.robust_z:+.1f}", r.flag, _money(r.excess_over_peer_median)]
            for r in flagged.itertuples()]
    return (f"FY{year}, per resident, against {int(latest['peer_count'].max())} peer cities (robust z beyond ±3.5):\n\n"
            + _table(["function", "Riverton", "peer median", "ratio", "robust z", "flag", "above a typical peer"], rows))


def _vacancies(frame: pd.DataFrame | None) -> str:
    if frame is None:
        return "Not computed yet."
    if frame.empty:
        return "No vacant positions in the latest snapshot."
    summary = by_department(frame)
    long = summary[summary["vacant_over_1_year"] > 0]
    snapshot = pd.Timestamp(frame["snapshot_date"].iloc[0]).date()
    head = (f"{len(frame)} vacant position(s) on {snapshot}, {int(summary['vacant_over_1_year'].sum())} vacant for over a year "
            f"({_money(float(summary['annual_salary_over_1_year'].sum()))} of salaries a year).")
    if long.empty:
        return head
    rows = [[r.department_code, r.vacant_positions, r.vacant_over_1_year, int(r.max_days_vacant), _money(r.annual_salary_over_1_year)]
            for r in long.head(TOP).itertuples()]
    return head + "\n\n" + _table(["department", "vacant", "over 1 year", "longest (days)", "salaries over 1 year"], rows)


def _scenario(frame: pd.DataFrame | None) -> str:
    if frame is None:
        return "Not computed yet."
    if frame.empty:
        return "No budget to cut."
    pct = float(frame["cut_pct"].iloc[0])
    base, found = float(frame["base_budget"].sum()), float(frame["proposed_cut"].sum())
    cut = frame[frame["step"].notna()].sort_values("step")
    rows = [[int(r.step), r.program_code, _money(r.proposed_cut), f"{r.cut_share_pct:.1f}%",
             f"{r.outcome_per_dollar:.2f}" if not pd.isna(r.outcome_per_dollar) else None, r.decision,
             "rise (consolidation)" if r.decision == "consolidate" else f"{r.est_outcome_change_pct:+.1f}%"]
            for r in cut.itertuples()]
    short = base * pct / 100 - found
    text = (f"A {pct:g}% cut of {_money(base)} asks for {_money(base * pct / 100)}; the least-harm scenario finds "
            f"{_money(found)}" + (f" ({_money(short)} short)" if short > 0.5 else "") + ":\n\n")
    return text + _table(["step", "programme", "cut", "of budget", "outcome per $", "decision", "outcomes"], rows) + \
        "\n\nEach row's reason is in `metrics.budget_scenario.explanation`; `citystat budget scenario --cut 7.6%` prints them."


def memo_section(con: duckdb.DuckDBPyConnection) -> str:
    """The memo's "Budget repurposing" section (Markdown, starting with a level-2 heading)."""
    parts = [f"## {TITLE}\n",
             "### Consistently failing\n\n" + _failing(_metric(con, "failing_programmes")) + "\n",
             "### Where money could move\n\n" + _candidates(_metric(con, "repurposing_candidates")) + "\n",
             "### Spending out of line with peer cities\n\n" + _peers(_metric(con, "peer_benchmarks")) + "\n",
             "### Long-vacant positions\n\n" + _vacancies(_metric(con, "vacant_positions")) + "\n",
             "### Least-harm cut scenario\n\n" + _scenario(_metric(con, "budget_scenario")) + "\n"]
    return "\n".join(parts)


# Budget tables the section reads; the memo includes it once any of them is built.
MEMO_TABLES = ["failing_programmes", "repurposing_candidates", "peer_benchmarks", "vacant_positions", "budget_scenario"]


def memo_sections(con: duckdb.DuckDBPyConnection) -> list[str]:
    """The budget section for the performance memo, or none when no budget table is built yet."""
    return [memo_section(con)] if any(has_table(con, f"metrics.{t}") for t in MEMO_TABLES) else []
