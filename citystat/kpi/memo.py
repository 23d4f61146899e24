"""The monthly performance memo to the mayor (Atlanta's practice): Markdown, and HTML rendered by ``markdown``.

Built only from the tables the metrics layer already has: the status table, the flags table and goal pacing.
Sections: the month at a glance, critical KPIs in red, top movers, commentary from the departments, new flags,
flags still unresolved (with the commitment made on each in the workbench), goals off pace.

Markdown passes raw HTML through and turns ``[text](url)`` into links, so every free text people typed (commentary,
commitments, reasons in a manual flag's message) goes through ``free_text`` first: HTML-escaped and with Markdown's
markup characters backslash-escaped, it renders as the characters typed.
"""
from __future__ import annotations

import datetime as dt
import html
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import markdown as markdown_lib
import pandas as pd

from citystat.kpi.periods import parse_period

_STATUS_ORDER = ("green", "yellow", "red", "gray")
_HTML_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{title}</title>
<style>
body {{ font-family: system-ui, sans-serif; max-width: 60rem; margin: 2rem auto; color: #222; }}
table {{ border-collapse: collapse; margin: 0.5rem 0 1.5rem; }}
th, td {{ border: 1px solid #ccc; padding: 0.25rem 0.6rem; text-align: left; }}
th {{ background: #f3f3f3; }}
</style></head>
<body>
{body}
</body></html>
"""


@dataclass(frozen=True)
class Memo:
    month: str
    markdown: str
    html: str

    def write(self, directory: Path) -> tuple[Path, Path]:
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        md_path, html_path = directory / f"memo_{self.month}.md", directory / f"memo_{self.month}.html"
        md_path.write_text(self.markdown, encoding="utf-8")
        html_path.write_text(self.html, encoding="utf-8")
        return md_path, html_path


_MARKDOWN_MARKUP = re.compile(r"([\\`*_\[\]!#~])")


def free_text(x) -> str | None:
    """Text a person typed, made inert for the memo: HTML-escaped, Markdown markup backslash-escaped."""
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return None
    return _MARKDOWN_MARKUP.sub(r"\\\1", html.escape(" ".join(str(x).split()), quote=True))


def _commitment(r) -> str | None:
    """'owner: action (due D, follow-up: slipped)' from the flag's workbench columns, escaped."""
    action = getattr(r, "commitment", None)
    if action is None or (isinstance(action, float) and math.isnan(action)):
        return None
    due, follow = getattr(r, "commitment_due", None), getattr(r, "follow_up", None)
    extra = [f"due {pd.Timestamp(due):%Y-%m-%d}" if due is not None and not pd.isna(due) else "",
             f"follow-up: {follow}" if isinstance(follow, str) and follow else ""]
    owner = getattr(r, "commitment_owner", None)
    owner = f"{owner}: " if isinstance(owner, str) and owner else ""
    extras = ", ".join(e for e in extra if e)
    return free_text(f"{owner}{action}" + (f" ({extras})" if extras else ""))


def _cell(x) -> str:
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "–"
    if isinstance(x, float):
        return f"{x:,.2f}".rstrip("0").rstrip(".") if abs(x) < 1000 else f"{x:,.0f}"
    return str(x).replace("|", "\\|")


def _table(headers: list[str], rows: list[list]) -> str:
    lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    lines += ["| " + " | ".join(_cell(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def _section(title: str, body: str, empty: str) -> str:
    return f"## {title}\n\n{body if body else empty}\n"


def build_memo(month: str, status: pd.DataFrame, flags: pd.DataFrame | None = None,
               goals: pd.DataFrame | None = None, top_movers: int = 5, city: str = "Riverton",
               extra_sections: Sequence[str] = (), commentary: pd.DataFrame | None = None) -> Memo:
    """The memo for ``month`` (YYYY-MM) from the status table, the flags table, the goal pacing table and the
    departments' commentary (metrics.kpi_commentary).
    ``extra_sections``: Markdown sections other areas add at the end (e.g. citystat.budget.memo.memo_section)."""
    period = parse_period(month)
    if period.grain != "month":
        raise ValueError(f"memo month {month!r} must be YYYY-MM")
    month = period.label
    current = status[status["period"] == month]
    if current.empty:
        raise ValueError(f"the status table has no rows for {month}")
    title = f"{city} performance memo — {dt.date(period.start.year, period.start.month, 1):%B %Y}"
    parts = [f"# {title}\n"]

    counts = current["status"].value_counts()
    scores = current["score"].dropna()
    glance = [[s, int(counts.get(s, 0))] for s in _STATUS_ORDER]
    citywide = f"Citywide score (mean of {len(scores)} KPI scores, 1.00 = on target): **{scores.mean():.2f}**." if len(scores) else \
        "No KPI has a score this month."
    parts.append(_section("At a glance", f"{len(current)} KPIs reported for {month}. {citywide}\n\n" + _table(["status", "KPIs"], glance), ""))

    if "caveat" in current.columns and current["caveat"].notna().any():
        caveated = current[current["caveat"].notna()].sort_values("kpi_id")
        parts.append(_section("Data caveats (numbers that may be short)",
                              _table(["KPI", "department", "caveat"],
                                     [[r.name, r.department_code, r.caveat] for r in caveated.itertuples()]), ""))

    red_critical = current[(current["status"] == "red") & current["critical"].astype(bool)].sort_values("distance_from_target", ascending=False)
    parts.append(_section(
        "Critical KPIs in red",
        _table(["KPI", "department", "value", "target", "why"],
               [[r.name, r.department_code, r.value, r.target, r.status_reason] for r in red_critical.itertuples()]) if len(red_critical) else "",
        "No critical KPI is red this month."))

    movers = current[current["relative_change"].notna()].copy()
    movers["magnitude"] = movers["relative_change"].abs()
    movers = movers.sort_values(["magnitude", "kpi_id"], ascending=[False, True]).head(top_movers)
    parts.append(_section(
        f"Top movers (largest change from the previous period, top {top_movers})",
        _table(["KPI", "department", "previous", "this month", "change", "direction", "status"],
               [[r.name, r.department_code, r.previous_value, r.value, f"{r.relative_change:+.1%}", r.change_direction, r.status]
                for r in movers.itertuples()]) if len(movers) else "",
        "No KPI has a previous period to compare with."))

    said = commentary[commentary["period"] == month].sort_values(["department_code", "kpi_id"]) \
        if commentary is not None and len(commentary) else None
    if said is not None and len(said):
        names = dict(zip(status["kpi_id"], status["name"]))
        parts.append(_section("Commentary from the departments",
                              _table(["KPI", "department", "commentary", "by"],
                                     [[names.get(r.kpi_id, r.kpi_id), r.department_code, free_text(r.comment),
                                       free_text(r.author)] for r in said.itertuples()]), ""))

    if flags is not None and len(flags):
        new = flags[flags["period"] == month]
        older = flags[(flags["period"].map(lambda p: parse_period(p) < period)) & (flags["status"] != "resolved")]
        def days(r) -> str:
            value = getattr(r, "days_open", None)
            return "" if value is None or pd.isna(value) else f"{int(value)}"

        flag_rows = lambda frame: [[r.flag_id, r.department_code, free_text(r.message), r.status, days(r), _commitment(r)]
                                   for r in frame.sort_values("flag_id").itertuples()]
        headers = ["flag", "department", "what", "status", "days open", "commitment"]
        parts.append(_section("New flags this month", _table(headers, flag_rows(new)) if len(new) else "",
                              "No new flags."))
        parts.append(_section("Unresolved flags from earlier months",
                              _table(headers, flag_rows(older)) if len(older) else "",
                              "None: every earlier flag is resolved."))
    else:
        parts.append(_section("Flags", "", "No flags recorded."))

    if goals is not None and len(goals):
        off = goals[goals["status"].isin(["off track", "missed"])]
        parts.append(_section(
            "Goals off pace",
            _table(["goal", "progress", "time elapsed", "pace needed / day", "actual pace / day", "projected completion", "deadline", "status"],
                   [[r.title or r.goal_id, f"{r.progress:.0%}" if r.progress is not None and not pd.isna(r.progress) else None,
                     f"{r.elapsed_share:.0%}", r.pace_needed_per_day, r.actual_pace_per_day,
                     r.projected_completion_date, r.deadline, r.status] for r in off.itertuples()]) if len(off) else "",
            f"All {len(goals)} strategic goal(s) are on track or achieved."))

    parts += [section.rstrip() + "\n" for section in extra_sections if section]
    text = "\n".join(parts)
    html = _HTML_PAGE.format(title=title, body=markdown_lib.markdown(text, extensions=["tables"]))
    return Memo(month=month, markdown=text, html=html)
