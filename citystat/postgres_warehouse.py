"""The warehouse on PostgreSQL: the setting that names the server, dbt's connection from it, and the landing loader.

DuckDB stays the default. ``CITYSTAT_WAREHOUSE_POSTGRES_URL`` names the server and database; ``citystat postgres
build`` then runs dbt on its ``postgres`` target (dbt_project/profiles.yml: ``DBT_TARGET=postgres`` and the
``CITYSTAT_PG_*`` variables derived here from the URL); no code changes. dbt-postgres cannot read Parquet, so the
landing batches are first copied into one raw table per dataset (schema = system, table = dataset: exactly where
``source(system, dataset)`` resolves on PostgreSQL) with ``COPY ... FROM STDIN``. DuckDB reads the Parquet files
here (union by name, the file name as ``filename``, as dbt-duckdb's ``read_parquet`` source does), psycopg writes.
Each table is replaced in one transaction, so a killed load leaves the previous raw tables in place.

dbt builds in place (``marts``, ``quality``, ...), so a build that dies half way leaves some tables new and some
old. What analysts and dashboards read is the published copy: after a build that passed, ``publish`` copies the
published schemas into ``publishing_<schema>`` and then, in one transaction, drops ``published_<schema>`` and
renames the copy to it. A build or a copy killed at any point leaves the previous ``published_*`` schemas whole;
readers never see a mixture (PostgreSQL's DDL is transactional).
"""
from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

from citystat.warehouse import quote_identifier, quote_literal

POSTGRES_URL_ENV = "CITYSTAT_WAREHOUSE_POSTGRES_URL"
# An existing role that gets read access (usage, select) to the published schemas, and nothing else.
READER_ROLE_ENV = "CITYSTAT_WAREHOUSE_POSTGRES_READER"
DBT_TARGET = "postgres"
BATCH_ROWS = 10_000
# The schemas analysts read after `citystat postgres build` (dbt's only); `citystat run` adds metrics (RUN_PUBLISHED_SCHEMAS).
PUBLISHED_SCHEMAS = ("marts", "quality")
RUN_PUBLISHED_SCHEMAS = ("marts", "quality", "metrics")

# DuckDB column type (its first word) -> PostgreSQL type; anything else travels as text.
_PG_TYPES = {
    "VARCHAR": "text", "BIGINT": "bigint", "INTEGER": "bigint", "SMALLINT": "bigint", "TINYINT": "bigint",
    "DOUBLE": "double precision", "FLOAT": "double precision", "BOOLEAN": "boolean", "DATE": "date",
    "TIMESTAMP": "timestamp", "DECIMAL": "numeric",
}


class WarehouseSettingError(ValueError):
    """The PostgreSQL URL cannot be used (it names no database)."""


def configured_url() -> str | None:
    """The warehouse's PostgreSQL URL when ``CITYSTAT_WAREHOUSE_POSTGRES_URL`` is set (then `citystat run` builds
    there), else None: the DuckDB warehouse."""
    return os.environ.get(POSTGRES_URL_ENV, "").strip() or None


def sqlalchemy_url(url: str) -> str:
    """The URL for SQLAlchemy Core with psycopg 3 (the driver already pinned for the COPY loader)."""
    from sqlalchemy.engine import make_url

    return make_url(url).set(drivername="postgresql+psycopg").render_as_string(hide_password=False)


def dbt_postgres_env(url: str) -> dict[str, str]:
    """The variables profiles.yml's ``postgres`` target reads, from one connection URL."""
    from sqlalchemy.engine import make_url

    parts = make_url(url)
    if not parts.database:
        raise WarehouseSettingError(f"{POSTGRES_URL_ENV} names no database")
    return {
        "DBT_TARGET": DBT_TARGET,
        "CITYSTAT_PG_HOST": parts.host or "127.0.0.1",
        "CITYSTAT_PG_PORT": str(parts.port or 5432),
        "CITYSTAT_PG_USER": parts.username or "",
        "CITYSTAT_PG_PASSWORD": parts.password or "",
        "CITYSTAT_PG_DBNAME": parts.database,
    }


def psycopg_url(url: str) -> str:
    """A libpq URL (no SQLAlchemy driver suffix such as ``+psycopg2``)."""
    from sqlalchemy.engine import make_url

    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def _landing_tables(landing: Path) -> Iterator[tuple[str, str, list[Path]]]:
    for system in sorted(p for p in landing.iterdir() if p.is_dir()):
        for dataset in sorted(p for p in system.iterdir() if p.is_dir()):
            files = sorted(dataset.glob("*.parquet"))
            if files:
                yield system.name, dataset.name, files


def _pg_type(duckdb_type: str) -> str:
    base = duckdb_type.split("(")[0].split(" ")[0].upper()
    if duckdb_type.upper().startswith("TIMESTAMP WITH TIME ZONE"):
        return "timestamptz"
    return _PG_TYPES.get(base, "text")


def load_landing(landing: Path, url: str, progress=print) -> dict[str, int]:
    """Copy every landing dataset into PostgreSQL (``<system>.<dataset>``, replaced whole); rows per table."""
    import duckdb
    import psycopg

    counts: dict[str, int] = {}
    reader = duckdb.connect()
    reader.execute("SET TimeZone = 'UTC'")
    with psycopg.connect(psycopg_url(url)) as pg:
        # Naive timestamps read as UTC, as the DuckDB profile's TimeZone setting does.
        pg.execute(f"alter database {quote_identifier(pg.info.dbname)} set timezone to 'UTC'")
        pg.commit()
        for system, dataset, files in _landing_tables(landing):
            source = f"read_parquet([{', '.join(quote_literal(str(f)) for f in files)}], union_by_name = true, filename = true)"
            columns = reader.execute(f"DESCRIBE SELECT * FROM {source}").fetchall()
            pg_types = [(name, _pg_type(kind)) for name, kind, *_ in columns]
            select = ", ".join(quote_identifier(name) if pg_type != "text" else f"CAST({quote_identifier(name)} AS VARCHAR)"
                               for name, pg_type in pg_types)
            table = f"{quote_identifier(system)}.{quote_identifier(dataset)}"
            staging = f"{quote_identifier(system)}.{quote_identifier('_loading_' + dataset)}"
            with pg.transaction():
                pg.execute(f"create schema if not exists {quote_identifier(system)}")
                pg.execute(f"drop table if exists {staging}")
                pg.execute(f"create table {staging} ({', '.join(f'{quote_identifier(n)} {t}' for n, t in pg_types)})")
                result = reader.execute(f"SELECT {select} FROM {source}")
                rows = 0
                with pg.cursor().copy(f"copy {staging} from stdin") as copy:
                    while batch := result.fetchmany(BATCH_ROWS):
                        for row in batch:
                            copy.write_row(row)
                        rows += len(batch)
                pg.execute(f"drop table if exists {table}")
                pg.execute(f"alter table {staging} rename to {quote_identifier(dataset)}")
            counts[f"{system}.{dataset}"] = rows
            progress(f"landed {system}.{dataset} in PostgreSQL: {rows:,} rows")
    return counts


def dbt_build(url: str, log_path: Path, target_path: Path, as_of: str | None = None) -> int:
    """``dbt build`` of the whole project on the ``postgres`` target; dbt's output goes to ``log_path``.

    Unit tests are left out: they are checked on DuckDB (their fixtures compile the model under test outside its
    graph, where the PostgreSQL column lists are not known). ``target_path`` keeps this build's manifest apart
    from the DuckDB one Dagster reads."""
    import json
    import subprocess

    from citystat.settings import dbt_executable, project_root

    project = project_root() / "dbt_project"
    command = [dbt_executable(), "build", "--exclude", "resource_type:unit_test", "--project-dir", str(project),
               "--profiles-dir", str(project), "--target-path", str(target_path), "--log-path", str(log_path.parent)]
    if as_of:
        command += ["--vars", json.dumps({"as_of": as_of})]
    env = {**os.environ, **dbt_postgres_env(url)}
    with open(log_path, "w") as log:
        return subprocess.run(command, cwd=project, env=env, stdout=log, stderr=subprocess.STDOUT).returncode


def publish(url: str, schemas: tuple[str, ...] = PUBLISHED_SCHEMAS, reader: str | None = None,
            progress=print) -> dict[str, int]:
    """Copy every table and view of ``schemas`` into ``publishing_<schema>``, then swap the copies in as
    ``published_<schema>`` in one transaction (granting ``reader``, a role, read access); tables per schema."""
    import psycopg

    counts: dict[str, int] = {}
    with psycopg.connect(psycopg_url(url)) as pg:
        for schema in schemas:
            side = quote_identifier(f"publishing_{schema}")
            with pg.transaction():  # a copy left by a killed publish is dropped here
                pg.execute(f"drop schema if exists {side} cascade")
                pg.execute(f"create schema {side}")
                names = [r[0] for r in pg.execute(
                    "select table_name from information_schema.tables where table_schema = %s order by table_name",
                    (schema,)).fetchall()]
                for name in names:
                    pg.execute(f"create table {side}.{quote_identifier(name)} as "
                               f"select * from {quote_identifier(schema)}.{quote_identifier(name)}")
            counts[schema] = len(names)
        with pg.transaction():
            for schema in schemas:
                published = quote_identifier(f"published_{schema}")
                pg.execute(f"drop schema if exists {published} cascade")
                pg.execute(f"alter schema {quote_identifier(f'publishing_{schema}')} rename to {published}")
                if reader:
                    pg.execute(f"grant usage on schema {published} to {quote_identifier(reader)}")
                    pg.execute(f"grant select on all tables in schema {published} to {quote_identifier(reader)}")
    progress("published " + ", ".join(f"published_{schema} ({n} tables)" for schema, n in counts.items()))
    return counts
