"""What the reading sub-commands (`citystat budget|contracts|evaluations ...`) share: the --db help text, one
way to end a command with a one-line error, and the warehouse a command reads."""
from __future__ import annotations

from pathlib import Path

import typer

DB_HELP = "DuckDB warehouse to read the marts from (default: the published snapshot, else the working warehouse)."


def fail(message: str) -> None:
    """End the command with one line on stderr and exit code 1 (no traceback)."""
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(1)


def database(db: Path | None) -> Path:
    """The warehouse to read: ``db`` if given, else the published snapshot, else the working warehouse."""
    from citystat.warehouse import readable_warehouse

    try:
        return readable_warehouse(db)
    except FileNotFoundError as error:
        fail(str(error))
