"""`citystat dashboards build|serve`: the Evidence site over the published snapshot."""
from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

app = typer.Typer(help="The Evidence dashboards: build the static site from the snapshot, serve it on 127.0.0.1.",
                  no_args_is_help=True)

SNAPSHOT_OPTION = typer.Option(
    None, "--snapshot", "-s", help="Published snapshot (default: $CITYSTAT_SNAPSHOT, else <warehouse>/citystat.duckdb)."
)
SITE_OPTION = typer.Option(None, "--site", "-o", help="Site folder (default: <warehouse>/dashboards).")


@app.command()
def build(
    snapshot: Optional[Path] = SNAPSHOT_OPTION,
    site: Optional[Path] = SITE_OPTION,
    force: bool = typer.Option(False, "--force", help="Build even if no table the site reads has changed."),
) -> None:
    """Build the static site: install the pinned Node packages if needed, copy the snapshot tables, run Evidence.
    A site whose tables and pages are unchanged since its last build is kept as it is (--force builds anyway)."""
    from rich.console import Console

    from citystat.dashboards import DashboardBuildError, build_site, default_site_dir, default_snapshot_path

    snapshot = snapshot or default_snapshot_path()
    site = site or default_site_dir()
    console = Console(stderr=True)
    try:
        with console.status(f"Building the dashboards from {snapshot} (Evidence takes a few minutes)..."):
            result = build_site(snapshot, site, force=force)
    except DashboardBuildError as error:
        typer.echo(f"dashboards build failed: {error}", err=True)
        raise typer.Exit(1) from None
    timings = ", ".join(f"{step} {seconds:.1f} s" for step, seconds in result.seconds.items())
    if result.skipped:
        typer.echo(f"The dashboards in {result.site_dir} are up to date: no table they read and none of their pages "
                   "changed since their last build (--force builds anyway).")
        return
    typer.echo(f"Rebuilt because of: {', '.join(result.rebuilt_because)}.")
    typer.echo(f"Built {len(result.pages)} dashboard pages in {result.site_dir} ({timings}).")
    typer.echo("Open them with: citystat dashboards serve")


@app.command()
def serve(
    site: Optional[Path] = SITE_OPTION,
    host: str = typer.Option("127.0.0.1", help="Address to listen on (loopback: the dashboards are not for the internet)."),
    port: int = typer.Option(3001, help="Port to listen on (3000 is the Dagster UI's)."),
) -> None:
    """Serve a built site until Ctrl-C."""
    from citystat.dashboards import DashboardBuildError, default_site_dir, serve_site

    site = site or default_site_dir()
    typer.echo(f"CityStat dashboards: http://{host}:{port}/  (Ctrl-C to stop)")
    try:
        serve_site(site, host=host, port=port)
    except DashboardBuildError as error:
        typer.echo(str(error), err=True)
        raise typer.Exit(1) from None
