"""`citystat postgres build`: the landing batches into PostgreSQL and the dbt project built there, without the rest of
the graph (`citystat run` builds there too when the setting is set). Settings: CITYSTAT_WAREHOUSE_POSTGRES_URL (README)."""
from __future__ import annotations

import datetime as dt
import os

import typer

postgres_app = typer.Typer(help="The warehouse on PostgreSQL (CITYSTAT_WAREHOUSE_POSTGRES_URL).", no_args_is_help=True)


def _fail(message: str) -> None:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(1)


@postgres_app.command()
def build() -> None:
    """Copy every landing dataset into PostgreSQL, `dbt build` on the postgres target, then publish marts and quality
    (published_marts, published_quality: swapped in one transaction, only after a build that passed)."""
    import psycopg

    from citystat import settings
    from citystat.postgres_warehouse import (POSTGRES_URL_ENV, READER_ROLE_ENV, dbt_build, first_line, load_landing,
                                             publish, unreachable)

    url = os.environ.get(POSTGRES_URL_ENV, "").strip()
    if not url:
        _fail(f"set {POSTGRES_URL_ENV} (postgresql://user:password@host:port/database)")
    landing = settings.landing_dir()
    if not landing.is_dir():
        _fail(f"{landing}: no landing folder (run `citystat run` or the ingestion first)")
    logs = settings.warehouse_dir() / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    log = logs / f"postgres-build-{dt.datetime.now(dt.timezone.utc):%Y%m%dT%H%M%SZ}.log"
    try:
        load_landing(landing, url, progress=typer.echo)
    except psycopg.OperationalError as error:  # libpq's first line names host and port, never the password
        _fail(f"PostgreSQL unreachable while loading the landing batches: {first_line(error)}; nothing published")
    as_of = settings.as_of()
    typer.echo(f"dbt build on PostgreSQL (log: {log})")
    if dbt_build(url, log, settings.warehouse_dir() / "dbt_postgres_target", as_of.isoformat() if as_of else None):
        problem = unreachable(url)
        cause = f"PostgreSQL became unreachable ({problem})" if problem else "dbt build on PostgreSQL failed"
        _fail(f"{cause}: see {log}; the published schemas are the previous build's")
    try:
        publish(url, reader=os.environ.get(READER_ROLE_ENV, "").strip() or None, progress=typer.echo)
    except psycopg.Error as error:  # e.g. the server went away, or the reader role does not exist
        _fail(f"publishing failed: {first_line(error)}; the published schemas are the previous build's")
    typer.echo("PostgreSQL warehouse built and published")
