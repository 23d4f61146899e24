"""`citystat kpi ...`: the KPI registry and the status engine on any long-format KPI series file."""
from __future__ import annotations

from pathlib import Path

import typer

app = typer.Typer(help="KPI registry and status engine (rules: docs/kpi_rules.md).", no_args_is_help=True)

_SHOWN = ["kpi_id", "period", "value", "target", "status", "score", "relative_change", "pop_flag", "trend_vs_last_year"]
# gap_periods and previous_period only annotate the change column
_HEADINGS = ["KPI", "period", "value", "target", "status", "score", "change", "flag", "vs last year"]


def _fail(error: Exception) -> None:
    typer.echo(f"error: {error}", err=True)
    raise typer.Exit(1)


def _fmt(x) -> str:
    import math

    if x is None or (isinstance(x, float) and math.isnan(x)):
        return ""
    if isinstance(x, float):
        return f"{x:,.0f}" if abs(x) >= 1000 else f"{x:.4g}"
    return str(x)


@app.command()
def status(
    series: Path = typer.Argument(..., help="Long-format CSV: kpi_id, period (YYYY-MM, FYyyyy or YYYY-MM-DD) or fiscal_year, value; optional target, desired_direction, yellow_band, red_band, flag_threshold, min_periods_for_status, critical, department_code, grain (month|fytd), rules_profile (default|mmr)."),
    out: Path = typer.Option(None, "--out", "-o", help="Write the full status table to this CSV instead of printing a summary table."),
    targets: Path = typer.Option(None, "--targets", help="CSV kpi_id, fiscal_year, target: targets for rows that carry none (before the registry's)."),
    use_registry: bool = typer.Option(True, "--registry/--no-registry", help="Fill directions, bands, thresholds and targets of known KPI ids from the registry."),
    score_cap: float = typer.Option(1.25, min=1.0, help="Cap on the CityScore-style score."),
    rules: str = typer.Option(None, "--rules", help="Rule profile for every KPI: default (docs/kpi_rules.md) or mmr (the NYC "
                              "Comptroller's evaluation of the MMR: met on the fiscal-year-to-date value, unchanged = "
                              "improving, 3-/5-year averages over the years available). Without it each KPI uses its "
                              "registry profile (default when unknown)."),
) -> None:
    """Status of every KPI and period in SERIES: met, red/yellow/green/gray, score, trend, period-over-period flag."""
    from citystat.kpi import series as series_mod
    from citystat.kpi.problems import ValidationError
    from citystat.kpi.registry import load_registry, load_targets
    from citystat.kpi.status import evaluate

    from citystat.kpi.status import PROFILES

    if rules is not None and rules not in PROFILES:
        _fail(f"--rules {rules!r} is not one of {', '.join(PROFILES)}")
    try:
        registry = load_registry() if use_registry else None
        extra_targets = load_targets(targets, registry.kpis if registry else None) if targets else None
        records, ignored = series_mod.read_series_csv(series)
        table = evaluate(series_mod.prepare(records, registry, extra_targets), score_cap=score_cap, rules=rules)
    except (ValidationError, FileNotFoundError) as error:
        _fail(error)
    if ignored:
        typer.echo(f"note: ignored column(s) {', '.join(ignored)}", err=True)
    counts = table["status"].value_counts()
    summary = ", ".join(f"{counts.get(s, 0)} {s}" for s in ("green", "yellow", "red", "gray"))
    if out is not None:
        out.parent.mkdir(parents=True, exist_ok=True)
        table.to_csv(out, index=False)
        typer.echo(f"{len(table)} rows ({summary}), {int(table['pop_flag'].sum())} flagged changes -> {out}")
        return
    import pandas as pd
    from rich.console import Console
    from rich.table import Table

    colours = {"green": "green", "yellow": "yellow", "red": "red", "gray": "bright_black"}
    view = Table(title=f"{series}: {len(table)} rows ({summary})")
    for heading in _HEADINGS:
        view.add_column(heading, no_wrap=heading in ("KPI", "period"))
    for row in table.to_dict("records"):
        cells = [_fmt(row[c]) for c in _SHOWN]
        cells[4] = f"[{colours[row['status']]}]{row['status']}[/]"
        cells[6] = "" if cells[6] == "" else f"{row['relative_change']:+.1%}"
        if row["gap_periods"] is not None and not pd.isna(row["gap_periods"]) and row["gap_periods"] > 0:
            cells[6] += f" vs {row['previous_period']} (gap)"
        cells[7] = "FLAG" if row["pop_flag"] else ""
        view.add_row(*cells)
    Console().print(view)


@app.command("list")
def list_kpis(
    department: str = typer.Option(None, "--department", "-d", help="Only this department code."),
    out: Path = typer.Option(None, "--out", "-o", help="Write the registry (with targets as columns FYyyyy) to this CSV."),
) -> None:
    """The KPI registry: id, department, kind, unit, direction, grain, bands, threshold, targets."""
    from citystat.kpi.problems import ValidationError
    from citystat.kpi.registry import load_registry

    try:
        registry = load_registry()
    except (ValidationError, FileNotFoundError) as error:
        _fail(error)
    frame = registry.frame()
    targets = registry.targets_frame()
    if len(targets):
        wide = targets.pivot(index="kpi_id", columns="fiscal_year", values="target")
        wide.columns = [f"FY{c}" for c in wide.columns]
        frame = frame.merge(wide, left_on="id", right_index=True, how="left")
    if department:
        frame = frame[frame["department_code"] == department]
        if frame.empty:
            _fail(ValueError(f"no KPIs for department {department!r}"))
    if out is not None:
        frame.to_csv(out, index=False)
        typer.echo(f"{len(frame)} KPIs -> {out}")
        return
    from rich.console import Console
    from rich.table import Table

    fy_columns = [c for c in frame.columns if c.startswith("FY")][-2:]
    shown = ["id", "department_code", "kind", "unit", "desired_direction", "grain", "yellow_band", "flag_threshold",
             "critical", "source", *fy_columns]
    view = Table(title=f"KPI registry: {len(frame)} KPIs")
    for column in shown:
        view.add_column(column.replace("desired_direction", "direction").replace("department_code", "dept"))
    for row in frame[shown].to_dict("records"):
        view.add_row(*(_fmt(row[c]) for c in shown))
    Console().print(view)


@app.command()
def briefing(
    month: str = typer.Option(None, "--month", "-m", help="Month of the data the meeting discusses, YYYY-MM "
                                                            "(default: the latest month closed on the as-of date)."),
    department: list[str] = typer.Option(None, "--department", "-d", help="Department code (repeatable; default: "
                                                                            "every department with KPI values)."),
    out: Path = typer.Option(None, "--out", "-o", help="Folder for the briefings (default: <warehouse>/briefings)."),
    db: Path = typer.Option(None, "--db", help="DuckDB warehouse to read (default: the published snapshot, else the "
                                                "working warehouse)."),
) -> None:
    """Stat-meeting briefings, one PDF (and its HTML page) per department: the KPIs that matter with their trend
    against target, open flags with days open, and the commitments from the last meeting with their status."""
    import re

    import duckdb

    from citystat.cli_support import database, fail
    from citystat.kpi import metrics_tables
    from citystat.kpi.briefing import BriefingError, write_briefings
    from citystat.warehouse import MissingMartError

    if month is not None and not re.fullmatch(r"\d{4}-(0[1-9]|1[0-2])", month):
        fail(f"--month {month!r}: expected YYYY-MM, e.g. 2026-10")
    path = database(db)
    try:
        with duckdb.connect(str(path), read_only=True) as con:
            month = month or metrics_tables.memo_month_for(metrics_tables.data_as_of(con))
            paths = write_briefings(con, month, out or metrics_tables.briefing_dir(), list(department or []))
    except (BriefingError, MissingMartError) as error:
        fail(f"{path}: {error}")
    if not paths:
        fail(f"{path}: no department has KPI values up to {month}")
    for written in paths:
        typer.echo(str(written))
    typer.echo(f"{len(paths)} briefing(s) for {month}")
