"""The "Evaluations" section of the monthly memo (Markdown), when an evaluation has reported.

``memo_sections(con)`` reads ``metrics.evaluation_results`` as the pipeline last wrote it and returns one section
listing every evaluation that reported in the 12 months up to the data's as-of date (the primary outcome first,
each outcome labelled pre-registered or exploratory), or no section at all when none did; pass it to
``citystat.kpi.memo.build_memo(..., extra_sections=[...])``.
"""
from __future__ import annotations

import datetime as dt

import duckdb
import pandas as pd

from citystat.warehouse import has_table, read

TITLE = "Evaluations"
RESULTS = "metrics.evaluation_results"
RECENT_DAYS = 365


def memo_section(results: pd.DataFrame) -> str:
    if results is None or results.empty:
        return ""
    reported = results[results["status"] == "reported"].copy()
    if reported.empty:
        return ""
    as_of = pd.to_datetime(reported["as_of"]).dt.date
    report = pd.to_datetime(reported["report_date"]).dt.date
    reported = reported[[(a - r).days <= RECENT_DAYS for a, r in zip(as_of, report)]]
    if reported.empty:
        return ""
    lines = [f"## {TITLE}\n"]
    for evaluation_id, rows in reported.groupby("evaluation_id", sort=True):
        rows = rows.sort_values(["is_primary", "pre_registered"], ascending=False)
        first = rows.iloc[0]
        lines.append(f"**{first['title']}** ({evaluation_id}; {first['unit_of_assignment']}, randomized; "
                     f"{pd.Timestamp(first['start_date']).date()} to {pd.Timestamp(first['end_date']).date()}, "
                     f"reported {pd.Timestamp(first['report_date']).date()}):\n")
        for r in rows.itertuples():
            lines.append(f"- *{r.label}*: {r.result}")
        if rows["balanced"].eq(False).any():
            lines.append("- The pre-period balance check failed: see `metrics.evaluation_balance` before acting on it.")
        lines.append("")
    lines.append("Tables: `metrics.evaluation_results`, `metrics.evaluation_balance`, `metrics.evaluation_assignments`.")
    return "\n".join(lines) + "\n"


def memo_sections(con: duckdb.DuckDBPyConnection) -> list[str]:
    """[the section] when an evaluation reported, else []."""
    if not has_table(con, RESULTS):
        return []
    section = memo_section(read(con, f"SELECT * FROM {RESULTS}"))
    return [section] if section else []
