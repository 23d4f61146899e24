"""`citystat evaluations ...`: check the evaluations registry, show the results and the What Works Cities
self-assessment from a warehouse (the published snapshot by default). Methods: docs/evaluations.md."""
from __future__ import annotations

from pathlib import Path

import typer

from citystat.cli_support import fail as _fail

app = typer.Typer(help="Low-cost evaluations and the What Works Cities self-assessment (docs/evaluations.md).",
                  no_args_is_help=True)

DB_HELP = "DuckDB warehouse to read (default: the published snapshot, else the working warehouse)."


def _connect(db: Path | None):
    import duckdb

    from citystat.warehouse import readable_warehouse

    try:
        return duckdb.connect(str(readable_warehouse(db)), read_only=True)
    except FileNotFoundError as error:
        _fail(str(error))


@app.command()
def validate(registry: Path = typer.Option(None, help="Registry file (default: $CITYSTAT_EVALUATIONS, else "
                                                      "data_inventory/evaluations.yaml).")) -> None:
    """Check the registry: every problem, named by evaluation and field (exit 1 when there is one)."""
    from citystat.evaluations.registry import RegistryError, load_registry, registry_path

    try:
        evaluations = load_registry(registry)
    except RegistryError as error:
        _fail(str(error))
    typer.echo(f"{registry_path(registry)}: {len(evaluations)} evaluation(s), valid: "
               + ", ".join(e.evaluation_id for e in evaluations))


@app.command()
def results(db: Path = typer.Option(None, help=DB_HELP)) -> None:
    """Every evaluation's outcomes as the pipeline last computed them (metrics.evaluation_results), in words."""
    from citystat.warehouse import has_table

    with _connect(db) as con:
        if not has_table(con, "metrics.evaluation_results"):
            _fail("metrics.evaluation_results is not in the warehouse: run `citystat run` first")
        rows = con.execute("select evaluation_id, label, status, result from metrics.evaluation_results "
                           "order by evaluation_id, is_primary desc, pre_registered desc, outcome").fetchall()
    for evaluation_id, label, status, result in rows:
        typer.echo(f"{evaluation_id} [{label}, {status}]: {result}")


@app.command()
def assess(db: Path = typer.Option(None, help=DB_HELP)) -> None:
    """The What Works Cities self-assessment computed now from the warehouse's tables (read-only)."""
    from citystat.evaluations.self_assessment import assess as run_assessment, level

    with _connect(db) as con:
        table = run_assessment(con)
    for r in table.itertuples():
        typer.echo(f"{r.criterion_id:<4} {r.status:<13} {r.criterion} — {r.detail} [{r.evidence}]")
    summary = level(table)
    typer.echo(f"indicative level: {summary['level']} ({summary['share']:.0%} of {summary['judged']} judged criteria, "
               f"partly met counts half; {summary['cannot_judge']} cannot be judged from the system)")
