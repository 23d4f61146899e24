"""`citystat flags ...`: list flags and log what was done about them, in the working warehouse."""
from __future__ import annotations

import getpass
from contextlib import contextmanager
from pathlib import Path

import typer

flags_app = typer.Typer(help="Automated KPI flags and their action log (metrics.flags, metrics.flag_actions).",
                        no_args_is_help=True)


def default_db() -> Path:
    """The working warehouse the pipeline writes the flags to ($CITYSTAT_WORK_DB, default <warehouse>/work.duckdb)."""
    from citystat.warehouse import work_db_path

    return work_db_path()


_DB = typer.Option(None, "--db", help="DuckDB file holding the flags (default: the working warehouse, $CITYSTAT_WORK_DB "
                                      "or $CITYSTAT_WAREHOUSE_DIR/work.duckdb).")
_BY = typer.Option(None, "--by", help="Who acted (default: your login name).")


def _fail(message: str) -> None:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(1)


@contextmanager
def _warehouse(db: Path | None):
    import duckdb

    path = Path(db) if db else default_db()
    if not path.exists():
        _fail(f"{path}: no warehouse here (run the pipeline first, or pass --db)")
    try:
        con = duckdb.connect(str(path))
    except duckdb.IOException as error:
        _fail(f"{path}: cannot open the warehouse ({error}); is a pipeline run writing to it?")
    try:
        yield con
    finally:
        con.close()


@flags_app.command("list")
def list_flags(
    status: str = typer.Option(None, help="Only flags in this status (open, acknowledged, escalated, resolved)."),
    kpi: str = typer.Option(None, help="Only this KPI id."),
    department: str = typer.Option(None, "--department", "-d", help="Only this department code."),
    all_flags: bool = typer.Option(False, "--all", help="Include resolved flags."),
    db: Path = _DB,
) -> None:
    """Flags that need attention (open, acknowledged, escalated), newest period first."""
    from rich.console import Console
    from rich.table import Table

    from citystat.kpi.flags import STATUSES, list_flags as query

    if status and status not in STATUSES:
        _fail(f"--status {status!r} is not one of {', '.join(STATUSES)}")
    with _warehouse(db) as con:
        frame = query(con, status=status, kpi_id=kpi, department_code=department, include_resolved=all_flags)
    view = Table(title=f"{len(frame)} flag(s)")
    for column in ("flag_id", "dept", "critical", "status", "days open", "recovered", "message"):
        view.add_column(column)
    for row in frame.to_dict("records"):
        days = row.get("days_open")
        view.add_row(row["flag_id"], row["department_code"] or "", "yes" if row["critical"] else "",
                     row["status"], "" if days is None or days != days else str(int(days)),
                     row["recovered_period"] or row.get("cleared_period") or "", row["message"])
    Console().print(view)


def _act(flag_id: str, status: str, note: str | None, by: str | None, db: Path | None) -> None:
    from citystat.kpi.flags import FlagError, record_action

    actor = by or getpass.getuser()
    with _warehouse(db) as con:
        try:
            added = record_action(con, flag_id, actor, note or status, status, source="cli")
        except FlagError as error:
            _fail(str(error))
    typer.echo(f"{flag_id}: {status} by {actor}" + ("" if added else " (already logged)"))


@flags_app.command()
def ack(flag_id: str, note: str = typer.Option(None, "--note", "-m", help="What was done."), by: str = _BY, db: Path = _DB) -> None:
    """Acknowledge a flag: someone owns it."""
    _act(flag_id, "acknowledged", note, by, db)


@flags_app.command()
def escalate(flag_id: str, note: str = typer.Option(None, "--note", "-m", help="Why, and to whom."), by: str = _BY, db: Path = _DB) -> None:
    """Escalate a flag (e.g. to the department head or the mayor's office)."""
    _act(flag_id, "escalated", note, by, db)


@flags_app.command()
def resolve(flag_id: str, note: str = typer.Option(None, "--note", "-m", help="What fixed it."), by: str = _BY, db: Path = _DB) -> None:
    """Resolve a flag by hand (flags also resolve themselves when the indicator recovers)."""
    _act(flag_id, "resolved", note, by, db)


@flags_app.command()
def history(flag_id: str, db: Path = _DB) -> None:
    """Every action logged on one flag, oldest first."""
    from citystat.kpi.flags import flag_history

    with _warehouse(db) as con:
        frame = flag_history(con, flag_id)
    if frame.empty:
        _fail(f"no flag {flag_id!r} (see `citystat flags list`)")
    for row in frame.to_dict("records"):
        typer.echo(f"{row['acted_at']:%Y-%m-%d %H:%M:%S}  {row['status']:<12} {row['actor']:<16} {row['action']}  [{row['source']}]")


@flags_app.command("export")
def export_cmd(out: Path = typer.Argument(..., help="CSV to write: the whole action log, in the import format."), db: Path = _DB) -> None:
    """Export the action log for the office to edit (add rows: flag_id, acted_at, actor, action, status)."""
    from citystat.kpi.flags import export_actions

    with _warehouse(db) as con:
        n = export_actions(con, out)
    typer.echo(f"{n} action(s) -> {out}")


@flags_app.command("import")
def import_cmd(path: Path = typer.Argument(..., help="Action CSV (as exported, with rows added)."), db: Path = _DB) -> None:
    """Import actions from the office's CSV: validated as a whole, rows already logged are skipped."""
    from citystat.kpi.flags import import_actions
    from citystat.kpi.problems import ValidationError

    with _warehouse(db) as con:
        try:
            added, skipped = import_actions(con, path)
        except (ValidationError, FileNotFoundError) as error:
            _fail(str(error))
    typer.echo(f"{added} action(s) added, {skipped} already logged")
