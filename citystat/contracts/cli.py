"""`citystat contracts ...`: in-season grades, final-quarter allocation and payment audit lines, computed
from the marts of a warehouse (the published snapshot by default, else the working warehouse)."""
from __future__ import annotations

from pathlib import Path

import typer

from citystat.cli_support import DB_HELP, fail as _fail, database as _database

app = typer.Typer(help="Results-driven contracts: grades, allocation, payments (rules: docs/contracts_performance.md).",
                  no_args_is_help=True)


def _load(db: Path | None, season: int | None = None):
    import duckdb

    from citystat.contracts.inputs import ContractDataError, read_marts

    path = _database(db)
    try:
        with duckdb.connect(str(path), read_only=True) as con:
            data = read_marts(con)
    except (ContractDataError, duckdb.Error) as error:
        _fail(f"{path}: {error}")
    if season is not None and season not in data.seasons:
        _fail(f"no results-driven contracts for season {season} in {path} (seasons: {', '.join(map(str, data.seasons)) or 'none'})")
    return path, data


def _num(x, fmt: str = ".1f") -> str:
    import pandas as pd

    return "" if x is None or pd.isna(x) else format(x, fmt)


@app.command()
def grade(
    season: int = typer.Option(..., "--season", help="Paving season (calendar year)."),
    at: float = typer.Option(0.75, "--at", min=0.01, max=1.0, help="Point of the season to grade at (share, 0.75 = three quarters)."),
    min_share: float = typer.Option(0.10, "--min-share", min=0.0, max=1.0, help="Minimum share of the remaining work per contract."),
    headroom: float = typer.Option(1.5, "--headroom", min=0.01, help="Capacity = headroom x max(pace so far x days left, own remaining planned miles)."),
    db: Path = typer.Option(None, "--db", help=DB_HELP),
) -> None:
    """Grade each contractor of SEASON at a point of the season and allocate the remaining work by grade."""
    from rich.console import Console
    from rich.table import Table

    from citystat.contracts.allocation import AllocationRules, allocate
    from citystat.contracts.grading import GradingRules, grade_contracts

    path, data = _load(db, season)
    rules = GradingRules(at=at)
    grades = grade_contracts(data.season(season), rules)
    shares = allocate(grades, data.contracts, AllocationRules(min_share=min_share, capacity_headroom=headroom))
    console = Console(width=max(Console().width, 160))
    day = grades["graded_on"].iloc[0]
    console.print(f"[bold]Season {season}[/bold]: graded {at:.0%} through the season ({day:%Y-%m-%d}); "
                  f"reports through {data.data_through:%Y-%m-%d}; warehouse {path}")

    table = Table(title="In-season grades", title_justify="left")
    for heading in ("rank", "contract", "vendor", "region", "status", "grade", "score",
                    *[c.name.replace("_", " ") for c in rules.components]):
        table.add_column(heading, overflow="fold", justify="right" if heading in ("rank", "score") else "left")
    colours = {"A": "green", "B": "green", "C": "yellow", "D": "red", "F": "red"}
    for g in grades.itertuples(index=False):
        colour = colours.get(g.grade, "bright_black")
        table.add_row(str(g.rank), g.contract_id, f"{g.vendor_id} {g.vendor_name or ''}", g.region or "", g.status,
                      f"[{colour}]{g.grade}[/{colour}]", _num(g.score),
                      *[_num(getattr(g, f"{c.name}_points"), ".0f") for c in rules.components])
    console.print(table)
    console.print("Component points are 0-100 (docs/contracts_performance.md); the evidence behind them:")
    for g in grades.itertuples(index=False):
        console.print(f"  {g.contract_id} {g.vendor_id}: {g.evidence}")
        if isinstance(g.notes, str):
            console.print(f"    note: {g.notes}")

    pool = shares["pool_miles"].iloc[0] if len(shares) else 0.0
    table = Table(title=f"Remaining work awarded by grade: {pool:.2f} mi", title_justify="left")
    for heading in ("contract", "vendor", "grade", "own remaining mi", "capacity mi", "minimum mi", "by score mi",
                    "awarded mi", "share", "rule"):
        table.add_column(heading, overflow="fold", justify="left" if heading in ("contract", "vendor", "grade", "rule") else "right")
    for a in shares.itertuples(index=False):
        table.add_row(a.contract_id or "-", f"{a.vendor_id} {a.vendor_name}" if a.vendor_id else a.status, a.grade or "",
                      _num(a.own_remaining_miles, ".2f"), _num(a.capacity_miles, ".2f"), _num(a.minimum_miles, ".2f"),
                      _num(a.extra_miles, ".2f"), _num(a.allocated_miles, ".2f"), _num(a.allocated_share, ".0%"), a.rule)
    console.print(table)


@app.command()
def payments(
    contract: str = typer.Option(..., "--contract", help="Contract id (CTR-YYNN)."),
    db: Path = typer.Option(None, "--db", help=DB_HELP),
) -> None:
    """The performance payment audit lines of one contract, as an officer checks them."""
    from rich.console import Console
    from rich.table import Table

    from citystat.contracts.payments import money, payment_lines

    path, data = _load(db)
    if contract not in set(data.contracts["contract_id"]):
        _fail(f"{contract} is not a results-driven contract in {path}")
    one = data.season(int(data.contracts.loc[data.contracts["contract_id"] == contract, "season_year"].iloc[0]))
    lines = payment_lines(one)
    lines = lines[lines["contract_id"] == contract]
    console = Console(width=max(Console().width, 160))
    table = Table(title=f"{contract}: performance payment lines (reports through {data.data_through:%Y-%m-%d})",
                  title_justify="left")
    for heading in ("#", "period", "component", "status", "target", "actual", "weight", "pool share", "earned", "penalty", "reason"):
        table.add_column(heading, overflow="fold")
    for line in lines.itertuples(index=False):
        table.add_row(str(line.line_no), line.period or "", line.component, line.status, _num(line.target, ".3f"),
                      _num(line.actual, ".3f"), _num(line.weight, ".2f"), money(line.pool_share), money(line.earned),
                      money(line.penalty), line.reason)
    console.print(table)
    console.print(f"earned {money(lines['earned'].sum())} - penalties {money(lines['penalty'].sum())} "
                  f"= net {money(lines['net'].sum())}")
