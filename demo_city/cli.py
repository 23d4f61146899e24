"""`citystat demo-city ...`: generate, advance and serve Riverton's simulated systems."""
from __future__ import annotations

import datetime as dt
from pathlib import Path

import typer

app = typer.Typer(help="The simulated departmental systems of Riverton (the embedded demo city).", no_args_is_help=True)

DEFAULT_DATA = Path("var/demo_city")


def _progress():
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    return Progress(TextColumn("{task.description}"), BarColumn(), TextColumn("{task.fields[rows]:,} rows"), TimeElapsedColumn())


def _run_with_progress(fn, n_systems: int, **kwargs):
    with _progress() as progress:
        task = progress.add_task("starting", total=n_systems, rows=0)
        state = {"rows": 0, "started": False}

        def on_system(name):
            if state["started"]:
                progress.advance(task)
            state["started"] = True
            progress.update(task, description=f"{name:<20}")

        def on_rows(dataset, n):
            state["rows"] += n
            progress.update(task, rows=state["rows"])

        ctx = fn(on_system=on_system, on_rows=on_rows, **kwargs)
        progress.update(task, completed=n_systems, description="done")
    return ctx


def _print_counts(ctx) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"Riverton demo city at {ctx.out} (as of {ctx.as_of})")
    table.add_column("dataset")
    table.add_column("rows", justify="right")
    for name, n in sorted(ctx.row_counts.items()):
        table.add_row(name, f"{n:,}")
    Console().print(table)


@app.command()
def generate(
    out: Path = typer.Option(DEFAULT_DATA, help="Folder to write the city's systems into (replaced)."),
    scale: float = typer.Option(1.0, min=0.01, help="1 = a city of ~350k residents in seconds; 100 = a large city."),
    seed: int = typer.Option(42, help="Random seed; the same seed gives identical output."),
    as_of: dt.datetime = typer.Option("2026-10-31", formats=["%Y-%m-%d"], help="Last day of history."),
    clean: bool = typer.Option(False, "--clean", help="Generate without injected defects."),
) -> None:
    """Generate the demo city: every department's system, three fiscal years of history, a defect manifest."""
    from demo_city.generator import SYSTEMS, generate as run

    ctx = _run_with_progress(run, len(SYSTEMS), out=out, seed=seed, scale=scale, as_of=as_of.date(), clean=clean)
    _print_counts(ctx)


@app.command()
def advance(
    data: Path = typer.Option(DEFAULT_DATA, help="A generated demo city."),
    days: int = typer.Option(1, min=1, help="Days of new activity to append."),
) -> None:
    """Append N more days of activity to every system (new records, status changes, new drops)."""
    from demo_city.generator import SYSTEMS, advance as run

    ctx = _run_with_progress(run, len(SYSTEMS), data=data, days=days)
    typer.echo(f"advanced {data} to {ctx.as_of}")


@app.command()
def serve(
    data: Path = typer.Option(DEFAULT_DATA, help="A generated demo city."),
    host: str = typer.Option("127.0.0.1"),
    port: int = typer.Option(8311),
) -> None:
    """Serve the 311 CRM (Open311 GeoReport v2) and the procurement portal (Socrata SODA) over HTTP."""
    from demo_city.servers import serve as run

    run(data, host=host, port=port)


if __name__ == "__main__":  # `python -m demo_city.cli serve ...`: how the pipeline serves the demo city without importing it
    app()
