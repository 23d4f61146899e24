"""`citystat public build|serve`: the public site, built only from the released open-data exports."""
from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

app = typer.Typer(help="The public site (scorecard, goals, measures, open data), built only from released exports.",
                  no_args_is_help=True)

SITE_OPTION = typer.Option(None, "--site", "-o", help="Site folder (default: <warehouse>/public_site).")
DEFAULT_PORT = 3002  # 3000 is the Dagster UI's, 3001 the internal dashboards'


def default_public_site_dir() -> Path:
    from citystat.settings import warehouse_dir

    return warehouse_dir() / "public_site"


def build_from_released(site: Path | None = None, force: bool = False):
    """Build the site from <warehouse>/open_data (what the `publish/public_site` asset runs); unless ``force``, a
    site built from the same released exports, inventory and code is kept."""
    from citystat.open_data.config import open_data_dir
    from citystat.public_site.build import build_public_site
    from data_inventory import load_inventory

    return build_public_site(open_data_dir(), site or default_public_site_dir(), load_inventory(), force=force)


@app.command()
def build(site: Optional[Path] = SITE_OPTION,
          force: bool = typer.Option(False, "--force", help="Build even if nothing it is made from changed.")) -> None:
    """Build the static public site from the released open-data exports (never from the snapshot)."""
    from citystat.public_site.build import PublicSiteError

    try:
        result = build_from_released(site, force)
    except PublicSiteError as error:
        typer.echo(f"public build failed: {error}", err=True)
        raise typer.Exit(1) from None
    typer.echo(f"{'Built' if result.rebuilt else 'Kept (nothing it is made from changed)'} {len(result.pages)} public pages in {result.site_dir} from {len(result.exports)} released "
               f"export(s). Open them with: citystat public serve")


@app.command()
def serve(
    site: Optional[Path] = SITE_OPTION,
    host: str = typer.Option("127.0.0.1", help="Address to listen on."),
    port: int = typer.Option(DEFAULT_PORT, help="Port to listen on."),
) -> None:
    """Serve the built public site until Ctrl-C."""
    from citystat.dashboards import serve_site

    site = site or default_public_site_dir()
    if not (site / "index.html").is_file():
        typer.echo(f"{site} is not a built public site (no index.html): run `citystat public build`", err=True)
        raise typer.Exit(1)
    typer.echo(f"CityStat public site: http://{host}:{port}/  (Ctrl-C to stop)")
    serve_site(site, host=host, port=port)
