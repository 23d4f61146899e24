"""`citystat budget ...`: the least-harm cut scenario, peer benchmarks and consistently failing programmes,
computed from the marts of a warehouse (the published snapshot by default, else the working warehouse)."""
from __future__ import annotations

from pathlib import Path

import typer

from citystat.cli_support import DB_HELP, fail as _fail, database as _database

app = typer.Typer(help="Budget repurposing: least-harm cuts, peer benchmarks, failing programmes (methods: docs/budget_repurposing.md).",
                  no_args_is_help=True)


def _run(db: Path | None, work, **settings):
    """Open the warehouse read-only, build the analysis and run ``work(analysis)``; known errors end the command."""
    import duckdb

    from citystat.budget.analysis import BudgetAnalysis
    from citystat.warehouse import MissingMartError
    from citystat.kpi.problems import ValidationError

    path = _database(db)
    try:
        with duckdb.connect(str(path), read_only=True) as con:
            return path, work(BudgetAnalysis(con, **settings))
    except (MissingMartError, ValidationError, ValueError, duckdb.Error) as error:
        _fail(f"{path}: {error}")


def _money(x) -> str:
    import pandas as pd

    return "" if x is None or pd.isna(x) else f"${x:,.0f}"


def _dollars(x) -> str:
    import pandas as pd

    return "" if x is None or pd.isna(x) else f"${x:,.2f}"


def _num(x, fmt: str = ".2f") -> str:
    import pandas as pd

    return "" if x is None or pd.isna(x) else format(x, fmt)


def _share(text: str, option: str) -> float:
    from citystat.budget.scenario import parse_percent

    try:
        return parse_percent(text)
    except ValueError as error:
        _fail(f"{option}: {error}")


@app.command()
def scenario(
    cut: str = typer.Option("7.6%", "--cut", help="Cut as a share of the total budget, e.g. 7.6%."),
    floor: str = typer.Option("80%", "--floor", help="Never cut a programme below this share of its budget."),
    protect: list[str] = typer.Option([], "--protect", help="Programme code never to cut (repeatable)."),
    red_periods: int = typer.Option(4, "--red", min=1, help="Failing rule: red in at least N ..."),
    window: int = typer.Option(6, "--window", min=1, help="... of the last M months."),
    show_all: bool = typer.Option(False, "--all", help="List every programme, not only those cut."),
    db: Path = typer.Option(None, "--db", help=DB_HELP),
) -> None:
    """Where a cut of --cut does least harm to outcomes: each programme's cut, the outcomes it would cost, and why."""
    from rich.console import Console
    from rich.table import Table

    pct, floor_pct = _share(cut, "--cut"), _share(floor, "--floor") if floor.strip() not in ("0", "0%") else 0.0
    path, result = _run(db, lambda analysis: analysis.scenario(pct, floor_pct / 100.0, tuple(protect)),
                        red_periods=red_periods, window=window)
    table = result.table if show_all else result.table[result.table["step"].notna()]
    view = Table(title=f"{path.name}: {result.summary()}", title_justify="left")
    for heading in ("step", "programme", "budget", "cut", "of budget", "outcome index", "outcome per $",
                    "outcomes change", "outcomes lost / year", "decision"):
        view.add_column(heading, no_wrap=heading in ("programme",))
    for r in table.itertuples():
        lost = "" if r.est_outcomes_lost_per_year is None or r.est_outcomes_lost_per_year != r.est_outcomes_lost_per_year \
            else f"{r.est_outcomes_lost_per_year:,.0f} {r.outcome_measure}"
        change = "rises" if r.decision == "consolidate" else f"{r.est_outcome_change_pct:+.1f}%"
        view.add_row("" if r.step is None or r.step != r.step else str(r.step), r.program_code, _money(r.base_budget),
                     _money(r.proposed_cut), f"{r.cut_share_pct:.1f}%", _num(r.outcome_index), _num(r.outcome_per_dollar),
                     change, lost, r.decision)
    console = Console(width=max(Console().width, 160))
    console.print(view)
    console.print("\nWhy:")
    for r in table.itertuples():
        console.print(f"- [bold]{r.program_code}[/]: {r.explanation}", highlight=False)


@app.command()
def peers(
    year: int = typer.Option(None, "--year", help="Fiscal year (default: the latest compared)."),
    db: Path = typer.Option(None, "--db", help=DB_HELP),
) -> None:
    """Riverton's spending per resident by function against the peer cities, flagged by robust z-score."""
    from rich.console import Console
    from rich.table import Table

    path, bench = _run(db, lambda analysis: analysis.peer_benchmarks)
    if bench.empty:
        _fail(f"{path}: no peer spending to compare with")
    chosen = year or int(bench["fiscal_year"].max())
    rows = bench[bench["fiscal_year"] == chosen].sort_values("robust_z", ascending=False)
    if rows.empty:
        _fail(f"{path}: no peer comparison for FY{chosen} (years: {', '.join(map(str, sorted(bench['fiscal_year'].unique())))})")
    view = Table(title=f"{path.name}: spending per resident, FY{chosen} (flag: robust z beyond ±3.5)", title_justify="left")
    for heading in ("function", "Riverton", "peer median", "peer range", "ratio", "robust z", "percentile", "flag", "above typical peer"):
        view.add_column(heading)
    import pandas as pd

    for r in rows.itertuples():
        flagged = pd.notna(r.flag) and bool(r.flag)
        view.add_row(r.function_code, f"${r.riverton_per_capita:,.2f}", _dollars(r.peer_median_per_capita),
                     f"{_dollars(r.peer_min_per_capita)}-{_dollars(r.peer_max_per_capita)}",
                     _num(r.ratio_to_peer_median, ".2f") + "x", _num(r.robust_z, "+.1f"), _num(r.percentile_rank, ".0f"),
                     f"[red]{r.flag}[/]" if flagged else "", _money(r.excess_over_peer_median) if flagged else "")
    Console(width=max(Console().width, 140)).print(view)


@app.command()
def failing(
    red_periods: int = typer.Option(4, "--red", min=1, help="Red in at least N ..."),
    window: int = typer.Option(6, "--window", min=1, help="... of the last M months."),
    db: Path = typer.Option(None, "--db", help=DB_HELP),
) -> None:
    """Sites and outcome KPIs red in at least N of the last M months, with where their clients could go."""
    from rich.console import Console
    from rich.table import Table

    path, (table, candidates) = _run(db, lambda analysis: (analysis.failing, analysis.repurposing),
                                     red_periods=red_periods, window=window)
    console = Console(width=max(Console().width, 140))
    if table.empty:
        console.print(f"{path.name}: nothing red in >= {red_periods} of the last {window} months.")
        return
    view = Table(title=f"{path.name}: {len(table)} {table['rule'].iloc[0]}", title_justify="left")
    for heading in ("site / KPI", "name", "programme", "red", "months red", "latest", "target"):
        view.add_column(heading)
    for r in table.itertuples():
        view.add_row(r.entity_id, r.entity_name, r.program_code or "", f"{r.red_periods}/{r.window_periods}", r.red_period_list,
                     _num(r.latest_value, ".1f"), _num(r.latest_target, ".1f"))
    console.print(view)
    for r in candidates.itertuples():
        console.print(f"- {r.failing_site_id}: {r.explanation}", highlight=False)
