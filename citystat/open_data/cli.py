"""`citystat open-data build|review|approve`: the open-data exports and their privacy review."""
from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

app = typer.Typer(help="Open-data exports of the public datasets, behind a privacy review gate.", no_args_is_help=True)


def run_exports(snapshot: Path | None = None, full_refresh: bool = False):
    """Build every declared export from the snapshot (what the `publish/open_data` asset runs); unless
    ``full_refresh``, an export whose inputs are unchanged since the last build keeps its files."""
    from citystat.open_data.config import load_config, open_data_dir, review_log_path
    from citystat.open_data.exports import build_exports
    from citystat.open_data.review import ReviewLog
    from citystat.warehouse import snapshot_path
    from data_inventory import load_inventory

    return build_exports(snapshot or snapshot_path(), load_inventory(), load_config(), open_data_dir(),
                         ReviewLog(review_log_path()), full_refresh=full_refresh)


def describe(result) -> str:
    extra = f", {result.suppressed_cells} cell(s) suppressed" if result.suppressed_cells else ""
    extra += ", unchanged: kept" if result.kept else ""
    return f"{result.id}: {result.status}" + (f" ({result.rows} rows{extra})" if result.status == "released" else f": {result.reason}")


@app.command()
def build(snapshot: Optional[Path] = typer.Option(None, help="Published snapshot (default <warehouse>/citystat.duckdb)."),
          full_refresh: bool = typer.Option(False, "--full-refresh", help="Write every export again, even those whose "
                                            "inputs are unchanged since the last build.")) -> None:
    """Export the public datasets and aggregates; exports at mosaic risk are held for review. Exit 1 if any is held.
    An export whose inputs (snapshot tables, declaration, inventory entry, review, code) are unchanged keeps its files."""
    try:
        results = run_exports(snapshot, full_refresh)
    except ValueError as error:  # a declaration that does not match the snapshot: nothing new is released
        typer.echo(f"open-data build: {error}", err=True)
        raise typer.Exit(1) from None
    for result in results:
        typer.echo(describe(result))
    held = [r.id for r in results if r.status == "held"]
    if held:
        typer.echo(f"{len(held)} export(s) held for privacy review: citystat open-data review; "
                   "citystat open-data approve NAME --reviewer 'Your Name'", err=True)
        raise typer.Exit(1)


@app.command()
def review() -> None:
    """List the privacy review items (pending and approved) with who approved them and when."""
    from citystat.open_data.config import review_log_path
    from citystat.open_data.review import ReviewLog

    items = ReviewLog(review_log_path()).items
    if not items:
        typer.echo("no privacy review items")
    for name, item in sorted(items.items()):
        who = f" by {item['approved_by']} at {item['approved_at']}" if item.get("status") == "approved" else ""
        typer.echo(f"{name}: {item['status']}{who} (raised {item['raised_at']}): {item.get('reason', '')}")


@app.command()
def approve(export: str = typer.Argument(..., help="The held export, e.g. crm311.service_requests."),
            reviewer: str = typer.Option(..., "--reviewer", help="Who approves (recorded with the time).")) -> None:
    """Approve a held export for release; the approval holds until the export's columns or quasi-identifiers change."""
    from citystat.open_data.config import review_log_path
    from citystat.open_data.review import ReviewLog

    try:
        item = ReviewLog(review_log_path()).approve(export, reviewer)
    except (KeyError, ValueError) as error:
        typer.echo(f"open-data approve: {error.args[0]}", err=True)
        raise typer.Exit(1) from None
    typer.echo(f"{export}: approved by {item['approved_by']} at {item['approved_at']}; released on the next build "
               "(citystat open-data build, or the next run)")
