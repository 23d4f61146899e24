"""The stat-meeting briefing: one printable page per department and month (the CitiStat follow-up memo).

For each department and month: the three to six KPIs that matter (critical first, then the worst, then those
with open flags), each with its last twelve months against target as a small chart; the commitments from the
last meeting with where they stand now (the meeting opens with them); then the department's open flags with days
open. Built only from the
metrics tables (kpi_status, flags, flag_actions), one HTML page (no script, no external file) and the same page
as a PDF (WeasyPrint) per department: ``<warehouse>/briefings/<month>/briefing_<month>_<department>.html|.pdf``.

Commitments are what people logged on the department's flags: the workbench's commitment (what, owner, due date,
latest follow-up, from ``metrics.flags``) or else their latest step in ``metrics.flag_actions`` (rows not written
by the engine, e.g. "acknowledged: crews moved to nights by 15 Nov"), with the flag's status now: the memo that
opens the next meeting. The monthly meeting on month M's data looks back at what was
promised about every flag raised up to the month before (M-1).
"""
from __future__ import annotations

import datetime as dt
import html
import re
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pandas as pd

from citystat.release_folders import write_whole
from citystat.warehouse import fetch, has_table, read, require

MAX_KPIS, MIN_KPIS = 6, 3
TREND_MONTHS = 12
ENGINE_SOURCE = "engine"  # metrics.flag_actions.source of the steps the flag engine writes itself
_CLOSED = ("resolved", "condition cleared")
_STATUS = {  # colour, shape (as on the dashboards: circle, triangle, stop sign, box), word
    "green": ("#15803d", "circle", "Green"), "yellow": ("#854d0e", "triangle", "Yellow"),
    "red": ("#b91c1c", "stop", "Red"), "gray": ("#4b5563", "box", "Gray"),
}
_SUFFIX = {"pct": "%", "days": " days", "hours": " h", "seconds": " s", "miles": " mi", "acres": " acres", "points": " pts"}


class BriefingError(ValueError):
    """A briefing cannot be made (unknown department, no data for the month)."""


@dataclass(frozen=True)
class Briefing:
    department_code: str
    department_name: str
    month: str
    kpi_ids: list[str]
    open_flags: int
    commitments: int
    html: str

    def write(self, directory: Path) -> Path:
        """Write the HTML page and its PDF; returns the PDF's path. Each file appears whole or not at all.

        The PDF is rendered only when the page differs from the one on disk (the render is most of a briefing's
        time, and a daily run mostly leaves a closed month's page as it was). The page is removed before its PDF
        is written and put back after, so a page on disk is always the one its PDF was rendered from."""
        out = Path(directory) / self.month
        out.mkdir(parents=True, exist_ok=True)
        stem = out / f"briefing_{self.month}_{self.department_code}"
        page, pdf = stem.with_suffix(".html"), stem.with_suffix(".pdf")
        if pdf.exists() and page.exists() and page.read_bytes() == self.html.encode("utf-8"):
            return pdf
        page.unlink(missing_ok=True)
        write_whole(pdf, to_pdf(self.html))
        write_whole(page, self.html)
        return pdf


def to_pdf(page: str) -> bytes:
    """The print-ready page as PDF bytes (WeasyPrint: no browser; the page has no script and no external file)."""
    from weasyprint import HTML  # imported here: loading Pango takes a moment, and only briefings need it

    return HTML(string=page).write_pdf()


def format_value(value, unit: str) -> str:
    """A value in its unit, as the dashboards show it (status.js formatValue)."""
    if value is None or pd.isna(value):
        return "–"
    if unit == "usd":
        return f"${value:,.0f}" if value >= 0 else f"-${-value:,.0f}"
    if unit == "score":
        return f"{value:.2f}"
    text = f"{value:,.1f}"
    text = text[:-2] if text.endswith(".0") else text
    return text + _SUFFIX.get(unit, "")


def month_name(period: str) -> str:
    """'2026-10' -> 'Oct 2026' (the one month format of the dashboards)."""
    return dt.date(int(period[:4]), int(period[5:7]), 1).strftime("%b %Y")


def months_in_words(text) -> str:
    """Every '2026-10' period inside a text (the flag engine's messages) as 'Oct 2026' (dates are left alone)."""
    return re.sub(r"\b(\d{4})-(0[1-9]|1[0-2])\b(?!-\d)", lambda m: month_name(m.group(0)), "" if text is None else str(text))


def previous_month(period: str) -> str:
    year, month = int(period[:4]), int(period[5:7])
    return f"{year - (month == 1):04d}-{(month - 2) % 12 + 1:02d}"


def _read(con: duckdb.DuckDBPyConnection, sql: str, params: dict, order: list[str]) -> pd.DataFrame:
    """Rows sorted here, not by ORDER BY: PostgreSQL orders text by the database's collation, DuckDB by code point."""
    return read(con, sql, params).sort_values(order, kind="stable").reset_index(drop=True)


def departments_with_kpis(con: duckdb.DuckDBPyConnection) -> list[str]:
    require(con, "metrics.kpi_status", ["department_code"], "the stat-meeting briefings")
    codes = [r["department_code"] for r in fetch(con, "SELECT DISTINCT department_code FROM metrics.kpi_status")]
    return sorted(codes, key=lambda code: (code is None, code or ""))  # code point order, NULL last (DuckDB's)


def chosen_kpis(latest: pd.DataFrame, open_flag_kpis: set[str]) -> pd.DataFrame:
    """The 3-6 KPIs that matter: critical first, then red, yellow, with an open flag, lowest score; the rest of the
    department's KPIs fill up to three."""
    rank = {"red": 0, "yellow": 1, "gray": 2, "green": 3}
    frame = latest.assign(
        _critical=~latest["critical"].fillna(False).astype(bool),
        _status=latest["status"].map(rank).fillna(4),
        _flagged=~latest["kpi_id"].isin(open_flag_kpis),
        _score=latest["score"].fillna(99.0),
    ).sort_values(["_critical", "_status", "_flagged", "_score", "kpi_name"])
    matters = frame[(frame["_critical"] == False) | (frame["_status"] <= 1) | (frame["_flagged"] == False)]  # noqa: E712
    chosen = matters.head(MAX_KPIS)
    if len(chosen) < MIN_KPIS:
        chosen = frame.head(MIN_KPIS)
    return chosen.drop(columns=["_critical", "_status", "_flagged", "_score"])


def build_briefing(con: duckdb.DuckDBPyConnection, department_code: str, month: str) -> Briefing:
    """The briefing of one department for the meeting on ``month``'s data (YYYY-MM)."""
    require(con, "metrics.kpi_status", ["kpi_id", "kpi_name", "department_code", "period", "unit", "value", "target",
                                        "status", "status_reason", "score", "critical", "desired_direction"],
            "the stat-meeting briefing")
    require(con, "metrics.flags", ["flag_id", "kpi_id", "department_code", "period", "status", "message", "days_open",
                                   "commitment", "commitment_owner", "commitment_due", "follow_up"],
            "the stat-meeting briefing")
    require(con, "metrics.flag_actions", ["flag_id", "acted_at", "actor", "action", "status", "source", "seq"],
            "the stat-meeting briefing")
    names = {r["department_code"]: r["department_name"] for r in fetch(
        con, "SELECT department_code, department_name FROM inventory.departments")} \
        if has_table(con, "inventory.departments") else {}
    history = _read(con, """
        SELECT kpi_id, kpi_name, period, unit, value, target, status, status_reason, score, critical, desired_direction
        FROM metrics.kpi_status WHERE department_code = :department AND period <= :month""",
                    {"department": department_code, "month": month}, ["kpi_id", "period"])
    if history.empty:
        raise BriefingError(f"department {department_code!r} has no KPI values up to {month} in metrics.kpi_status")
    latest = history.groupby("kpi_id", as_index=False).tail(1)
    flags = _read(con, """
        SELECT flag_id, kpi_id, kpi_name, period, kind, message, status, days_open
        FROM metrics.flags WHERE department_code = :department AND period <= :month""",
                  {"department": department_code, "month": month}, ["period", "kpi_name"])
    open_flags = flags[~flags["status"].isin(_CLOSED)]
    chosen = chosen_kpis(latest, set(open_flags["kpi_id"]))
    commitments = _read(con, """
        SELECT kpi_name, period, flag_status, commitment, commitment_owner, commitment_due, follow_up, acted_at, actor, action
        FROM (SELECT f.kpi_name, f.period, f.status AS flag_status, f.commitment, f.commitment_owner, f.commitment_due,
                     f.follow_up, a.acted_at, a.actor, a.action,
                     row_number() OVER (PARTITION BY a.flag_id ORDER BY a.acted_at DESC, a.seq DESC) AS latest
              FROM metrics.flag_actions a JOIN metrics.flags f USING (flag_id)
              WHERE f.department_code = :department AND f.period <= :month AND a.source <> :engine) ranked
        WHERE latest = 1""", {"department": department_code, "month": previous_month(month), "engine": ENGINE_SOURCE},
                        ["acted_at", "kpi_name"])
    name = names.get(department_code, department_code)
    body = _render(name, month, chosen, history, open_flags, commitments)
    return Briefing(department_code, name, month, list(chosen["kpi_id"]), len(open_flags), len(commitments), body)


def write_briefings(con: duckdb.DuckDBPyConnection, month: str, out_dir: Path,
                    departments: list[str] | None = None) -> list[Path]:
    """One briefing file per department (default: every department with KPI values up to the month)."""
    paths = []
    for code in departments or departments_with_kpis(con):
        try:
            paths.append(build_briefing(con, code, month).write(out_dir))
        except BriefingError:
            if departments:  # asked for by name: say so; else a department without data yet is skipped
                raise
    return paths


# ---- HTML ------------------------------------------------------------------------------------------------------

def _e(text) -> str:
    return html.escape("" if text is None or (isinstance(text, float) and pd.isna(text)) else str(text))


def _badge(status: str | None) -> str:
    colour, shape, word = _STATUS.get(status or "gray", _STATUS["gray"])
    icon = {
        "circle": f'<circle cx="5" cy="5" r="4.5" fill="{colour}"/>',
        "triangle": f'<polygon points="5,0.5 9.7,9.3 0.3,9.3" fill="{colour}"/>',
        "stop": f'<polygon points="3.1,0.4 6.9,0.4 9.6,3.1 9.6,6.9 6.9,9.6 3.1,9.6 0.4,6.9 0.4,3.1" fill="{colour}"/>',
        "box": f'<rect x="0.8" y="0.8" width="8.4" height="8.4" fill="none" stroke="{colour}" stroke-width="1.6"/>',
    }[shape]
    return (f'<span class="badge" data-status="{_e(status or "gray")}" style="color:{colour};border-color:{colour}">'
            f'<svg viewBox="0 0 10 10" width="10" height="10" aria-hidden="true">{icon}</svg> {word}</span>')


def _sparkline(rows: pd.DataFrame, unit: str) -> str:
    """The last months' values (solid) against target (dashed), dots in their status colour."""
    rows = rows.tail(TREND_MONTHS).reset_index(drop=True)
    numbers = [float(v) for v in pd.concat([rows["value"], rows["target"]]).dropna()]
    if not numbers:
        return '<span class="muted">no values yet</span>'
    low, high = min(numbers), max(numbers)
    span = (high - low) or abs(high) or 1.0
    low, high = low - span * 0.1, high + span * 0.1
    width, height, step = 240, 60, 240 / max(len(rows) - 1, 1)

    def y(v: float) -> float:
        return round(height - (v - low) / (high - low) * height, 1)

    def path(column: str) -> str:
        d, pen = [], False
        for i, v in enumerate(rows[column]):
            if pd.isna(v):
                pen = False
                continue
            d.append(f"{'L' if pen else 'M'}{round(i * step, 1)},{y(float(v))}")
            pen = True
        return " ".join(d)

    dots = "".join(f'<circle cx="{round(i * step, 1)}" cy="{y(float(r.value))}" r="2.5" '
                   f'fill="{_STATUS.get(r.status, _STATUS["gray"])[0]}"/>'
                   for i, r in enumerate(rows.itertuples()) if not pd.isna(r.value))
    return (f'<svg class="spark" viewBox="-3 -3 {width + 6} {height + 6}" role="img" '
            f'aria-label="{len(rows)} months against target">'
            f'<path d="{path("target")}" fill="none" stroke="#111827" stroke-dasharray="4 3"/>'
            f'<path d="{path("value")}" fill="none" stroke="#1e3a8a" stroke-width="1.5"/>{dots}</svg>'
            f'<div class="muted">{_e(month_name(rows["period"].iloc[0]))} – {_e(month_name(rows["period"].iloc[-1]))}: '
            f'from {_e(format_value(rows["value"].dropna().iloc[0] if rows["value"].notna().any() else None, unit))} '
            f'to {_e(format_value(rows["value"].iloc[-1], unit))}</div>')


def _commitment(c) -> str:
    """The workbench's commitment (what, owner, due, latest follow-up) or, without one, the latest step logged."""
    if _e(c.commitment) == "":
        return _e(c.action)
    due = "" if pd.isna(c.commitment_due) else f", due {pd.Timestamp(c.commitment_due).strftime('%d %b %Y')}"
    follow_up = "" if _e(c.follow_up) == "" else f'<div class="muted">follow-up: {_e(c.follow_up)}</div>'
    return f"<strong>{_e(c.commitment)}</strong><div class=\"muted\">owner {_e(c.commitment_owner)}{_e(due)}</div>{follow_up}"


def _render(name: str, month: str, chosen: pd.DataFrame, history: pd.DataFrame, open_flags: pd.DataFrame,
            commitments: pd.DataFrame) -> str:
    kpi_rows = []
    for k in chosen.itertuples():
        lagging = f' <span class="muted">(latest: {_e(month_name(k.period))})</span>' if k.period != month else ""
        kpi_rows.append(
            f'<tr data-kpi="{_e(k.kpi_id)}"><td><strong>{_e(k.kpi_name)}</strong>'
            f'{" <span class=chip>critical</span>" if k.critical else ""}{lagging}</td>'
            f'<td>{_badge(k.status)}</td>'
            f'<td class="num" data-field="value">{_e(format_value(k.value, k.unit))}</td>'
            f'<td class="num" data-field="target">{_e(format_value(k.target, k.unit))}</td>'
            f'<td>{_sparkline(history[history["kpi_id"] == k.kpi_id], k.unit)}'
            f'<div class="muted">{_e(k.status_reason)}</div></td></tr>')
    flag_rows = "".join(
        f'<tr data-flag="{_e(f.flag_id)}"><td>{_e(f.kpi_name)}</td><td class="nowrap">{_e(month_name(f.period))}</td>'
        f'<td>{_e(f.status)}</td><td class="num" data-field="days-open">{_e(f.days_open)} days</td><td>{_e(months_in_words(f.message))}</td></tr>'
        for f in open_flags.itertuples())
    commitment_rows = "".join(
        f'<tr><td>{_e(c.kpi_name)} ({_e(month_name(c.period))})</td><td data-field="commitment">{_commitment(c)}</td>'
        f'<td>{_e(c.actor)}, {_e(pd.Timestamp(c.acted_at).strftime("%Y-%m-%d"))}'
        f'{"" if _e(c.commitment) == "" else ": " + _e(c.action)}</td>'
        f'<td data-field="commitment-status"><strong>{_e(c.flag_status)}</strong></td></tr>'
        for c in commitments.itertuples())
    flags_html = (f'<table><thead><tr><th>KPI</th><th>Month</th><th>Status</th><th class="num">Days open</th>'
                  f'<th>What happened</th></tr></thead><tbody>{flag_rows}</tbody></table>'
                  if flag_rows else "<p>No open flags.</p>")
    commitments_html = (f'<table><thead><tr><th>Flag</th><th>Commitment</th><th>Latest step (who, when)</th>'
                        f'<th>Status now</th></tr>'
                        f'</thead><tbody>{commitment_rows}</tbody></table>'
                        if commitment_rows else f"<p>No commitments were logged on flags raised up to "
                                                f"{_e(month_name(previous_month(month)))}.</p>")
    return _PAGE.format(
        title=_e(f"{name} · stat meeting briefing · {month_name(month)}"), name=_e(name),
        footer=_css_string(f"{name} · stat meeting briefing · {month_name(month)}"), month=_e(month_name(month)),
        kpi_rows="".join(kpi_rows), flags=flags_html, open_count=len(open_flags), commitments=commitments_html)


def _css_string(text: str) -> str:
    """Text inside a CSS string (the printed footer): no quote or backslash can end it, no tag can open."""
    return "".join(c if c.isalnum() or c in " ·-,.()&'" else f"\\{ord(c):x} " for c in text)


_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{title}</title>
<style>
@page {{ size: letter; margin: 14mm 14mm 18mm;
  @bottom-left {{ content: "{footer}"; font: 8pt sans-serif; color: #4b5563; }}
  @bottom-right {{ content: "page " counter(page) " of " counter(pages); font: 8pt sans-serif; color: #4b5563; }} }}
@media print {{ body {{ margin: 0; max-width: none; }} }}
body {{ font-family: system-ui, sans-serif; color: #111827; max-width: 60rem; margin: 1.5rem auto; font-size: 11pt; }}
h1 {{ font-size: 18pt; margin: 0 0 0.2rem; }} h2 {{ font-size: 13pt; margin: 1.2rem 0 0.4rem; }}
table {{ width: 100%; border-collapse: collapse; }} th, td {{ text-align: left; vertical-align: top; padding: 0.3rem 0.4rem;
border-bottom: 1px solid #d1d5db; }} th {{ font-size: 9pt; text-transform: uppercase; color: #374151; }}
.num {{ text-align: right; white-space: nowrap; }} .nowrap {{ white-space: nowrap; }} .muted {{ color: #4b5563; font-size: 8.5pt; }}
.badge {{ display: inline-flex; gap: 0.25rem; align-items: center; border: 1px solid; border-radius: 999px;
padding: 0 0.4rem; font-size: 9pt; font-weight: 600; white-space: nowrap; }}
.chip {{ font-size: 7.5pt; text-transform: uppercase; border: 1px solid #6b7280; border-radius: 3px; padding: 0 3px; }}
.spark {{ width: 240px; height: 60px; display: block; }}
tr {{ break-inside: avoid; }} h2 {{ break-after: avoid; }}
</style></head>
<body>
<h1>{name}</h1>
<p>Stat meeting briefing on the data of <strong>{month}</strong>. Status: green = on target, yellow = within 10%,
red = more than 10% off target, gray = not enough data (shapes: circle, triangle, stop sign, box).</p>
<h2>The KPIs that matter this month</h2>
<table><thead><tr><th>KPI</th><th>Status</th><th class="num">Value</th><th class="num">Target</th>
<th>Last 12 months against target (dashed)</th></tr></thead><tbody>{kpi_rows}</tbody></table>
<h2>Commitments from the last meeting</h2>
{commitments}
<h2>Open flags ({open_count})</h2>
{flags}
</body></html>
"""
