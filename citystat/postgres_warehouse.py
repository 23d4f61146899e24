"""The warehouse on PostgreSQL: the setting that names the server, dbt's connection from it, and the landing loader.

DuckDB stays the default. ``CITYSTAT_WAREHOUSE_POSTGRES_URL`` names the server and database; ``citystat postgres
build`` then runs dbt on its ``postgres`` target (dbt_project/profiles.yml: ``DBT_TARGET=postgres`` and the
``CITYSTAT_PG_*`` variables derived here from the URL); no code changes. dbt-postgres cannot read Parquet, so the
landing batches are first copied into one raw table per dataset (schema = system, table = dataset: exactly where
``source(system, dataset)`` resolves on PostgreSQL) with ``COPY ... FROM STDIN``. DuckDB reads the Parquet files
here (union by name, the file name as ``filename``, as dbt-duckdb's ``read_parquet`` source does), psycopg writes.
Only the files not yet there are copied (``citystat_state.loaded_files`` records which are); each dataset is
appended to, or reloaded whole, in one transaction, so a killed load leaves the previous raw tables in place.

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
    "TIMESTAMP": "timestamp without time zone", "DECIMAL": "numeric",
}
# Which landing files each raw table holds (written with their rows, in one transaction).
STATE_SCHEMA = "citystat_state"
LOADED_FILES = f"{STATE_SCHEMA}.loaded_files"
# Named records of the pipeline's own state kept with the warehouse (a dropped database forgets them too).
RECORDS = f"{STATE_SCHEMA}.records"


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
        return "timestamp with time zone"
    return _PG_TYPES.get(base, "text")


def _parquet_source(files: list[Path]) -> str:
    return f"read_parquet([{', '.join(quote_literal(str(f)) for f in files)}], union_by_name = true, filename = true)"


def _copy(pg, reader, select: str, table: str) -> int:
    """COPY the rows of DuckDB query ``select`` into PostgreSQL table ``table``; how many."""
    result = reader.execute(select)
    rows = 0
    with pg.cursor().copy(f"copy {table} from stdin") as copy:
        while batch := result.fetchmany(BATCH_ROWS):
            for row in batch:
                copy.write_row(row)
            rows += len(batch)
    return rows


def _table_columns(pg, system: str, dataset: str) -> list[tuple[str, str]]:
    """(name, type) of ``<system>.<dataset>`` in PostgreSQL, in order; empty when there is no such table."""
    return [tuple(r) for r in pg.execute(
        "select a.attname, format_type(a.atttypid, a.atttypmod) from pg_attribute a "
        "join pg_class c on c.oid = a.attrelid join pg_namespace n on n.oid = c.relnamespace "
        "where n.nspname = %s and c.relname = %s and c.relkind = 'r' and a.attnum > 0 and not a.attisdropped "
        "order by a.attnum", (system, dataset)).fetchall()]


def _new_files(pg, system: str, dataset: str, files: list[Path], pg_types: list[tuple[str, str]]) -> list[Path] | None:
    """The files of a dataset not yet in PostgreSQL, when appending them is safe; None when the table must be
    reloaded whole: no table yet, its columns differ from the landing's (a new column, a changed type), or a file
    recorded as loaded is gone or changed size (landing rewritten or moved)."""
    loaded = dict(pg.execute(f"select file, bytes from {LOADED_FILES} where system = %s and dataset = %s",
                             (system, dataset)).fetchall())
    if not loaded or _table_columns(pg, system, dataset) != pg_types:
        return None
    sizes = {str(f): f.stat().st_size for f in files}
    if any(sizes.get(name) != size for name, size in loaded.items()):
        return None
    return [f for f in files if str(f) not in loaded]


def load_landing(landing: Path, url: str, progress=print) -> dict[str, int]:
    """Copy the landing batches not yet in PostgreSQL into ``<system>.<dataset>``; rows copied per table.

    Which files a table holds is recorded in ``citystat_state.loaded_files`` in the same transaction as their
    rows, so each dataset is all-or-nothing: a killed load leaves the previous table and record, and the next load
    copies what is still missing. New batches are appended (read with the columns and types of the union of all the
    dataset's files, as the DuckDB source reads them); a dataset whose columns changed, or whose recorded files
    are gone or changed, is reloaded whole into a side table renamed in place."""
    import duckdb
    import psycopg

    counts: dict[str, int] = {}
    reader = duckdb.connect()
    reader.execute("SET TimeZone = 'UTC'")
    with psycopg.connect(psycopg_url(url)) as pg:
        # Naive timestamps read as UTC, as the DuckDB profile's TimeZone setting does.
        pg.execute(f"alter database {quote_identifier(pg.info.dbname)} set timezone to 'UTC'")
        pg.execute(f"create schema if not exists {STATE_SCHEMA}")
        pg.execute(f"create table if not exists {LOADED_FILES} (system text, dataset text, file text, bytes bigint, "
                   "primary key (system, dataset, file))")
        pg.commit()
        for system, dataset, files in _landing_tables(landing):
            columns = reader.execute(f"DESCRIBE SELECT * FROM {_parquet_source(files)}").fetchall()
            duck_types = {name: kind for name, kind, *_ in columns}
            pg_types = [(name, _pg_type(kind)) for name, kind, *_ in columns]
            table = f"{quote_identifier(system)}.{quote_identifier(dataset)}"
            with pg.transaction():
                # one loader per dataset at a time (two runs on one database wait for each other here)
                pg.execute("select pg_advisory_xact_lock(hashtext(%s))", (f"citystat_state:{system}.{dataset}",))
                new = _new_files(pg, system, dataset, files, pg_types)
                if new is None:
                    rows = _reload(pg, reader, system, dataset, files, pg_types)
                    pg.execute(f"delete from {LOADED_FILES} where system = %s and dataset = %s", (system, dataset))
                    loaded, how = files, "reloaded whole"
                elif new:
                    present = {name: kind for name, kind, *_ in reader.execute(
                        f"DESCRIBE SELECT * FROM {_parquet_source(new)}").fetchall()}
                    if any(kind != duck_types[name] for name, kind in present.items()):
                        rows = _reload(pg, reader, system, dataset, files, pg_types)  # a type differs: as the union reads it
                        pg.execute(f"delete from {LOADED_FILES} where system = %s and dataset = %s", (system, dataset))
                        loaded, how = files, "reloaded whole"
                    else:
                        select = ", ".join(_as_loaded(name, pg_type, name in present) for name, pg_type in pg_types)
                        rows = _copy(pg, reader, f"SELECT {select} FROM {_parquet_source(new)}", table)
                        loaded, how = new, f"{len(new)} new file{'s' if len(new) != 1 else ''} appended"
                else:
                    rows, loaded, how = 0, [], "up to date"
                with pg.cursor() as cursor:
                    cursor.executemany(f"insert into {LOADED_FILES} values (%s, %s, %s, %s)",
                                       [(system, dataset, str(f), f.stat().st_size) for f in loaded])
            counts[f"{system}.{dataset}"] = rows
            progress(f"landed {system}.{dataset} in PostgreSQL: {rows:,} rows ({how})")
    return counts


def _as_loaded(name: str, pg_type: str, present: bool) -> str:
    """One column of a DuckDB select feeding COPY: text columns as DuckDB prints them, absent ones as NULL."""
    column = quote_identifier(name) if present else "NULL"
    return f"CAST({column} AS VARCHAR)" if pg_type == "text" or not present else column


def _reload(pg, reader, system: str, dataset: str, files: list[Path], pg_types: list[tuple[str, str]]) -> int:
    """Every file of a dataset into a side table, renamed over the old one (in the caller's transaction)."""
    table = f"{quote_identifier(system)}.{quote_identifier(dataset)}"
    staging = f"{quote_identifier(system)}.{quote_identifier('_loading_' + dataset)}"
    pg.execute(f"create schema if not exists {quote_identifier(system)}")
    pg.execute(f"drop table if exists {staging}")
    pg.execute(f"create table {staging} ({', '.join(f'{quote_identifier(n)} {t}' for n, t in pg_types)})")
    select = ", ".join(_as_loaded(name, pg_type, True) for name, pg_type in pg_types)
    rows = _copy(pg, reader, f"SELECT {select} FROM {_parquet_source(files)}", staging)
    pg.execute(f"drop table if exists {table}")
    pg.execute(f"alter table {staging} rename to {quote_identifier(dataset)}")
    return rows


def unreachable(url: str) -> str | None:
    """Why the server does not answer now (libpq's first line: host and port, never the password), or None."""
    import psycopg

    try:
        psycopg.connect(psycopg_url(url), connect_timeout=10).close()
    except psycopg.OperationalError as error:
        return first_line(error)
    return None


def first_line(error: Exception) -> str:
    return (str(error).splitlines() or [type(error).__name__])[0][:200]


def read_record(url: str, name: str) -> str | None:
    """The record ``name`` kept in the warehouse database (``citystat_state.records``), or None."""
    import psycopg

    with psycopg.connect(psycopg_url(url)) as pg:
        if pg.execute("select to_regclass(%s)", (RECORDS,)).fetchone()[0] is None:
            return None
        row = pg.execute(f"select value from {RECORDS} where name = %s", (name,)).fetchone()
    return row[0] if row else None


def write_record(url: str, name: str, value: str | None) -> None:
    """Keep (or, with None, remove) the record ``name`` in the warehouse database."""
    import psycopg

    with psycopg.connect(psycopg_url(url)) as pg:
        pg.execute(f"create schema if not exists {STATE_SCHEMA}")
        pg.execute(f"create table if not exists {RECORDS} (name text primary key, value text not null)")
        pg.execute(f"delete from {RECORDS} where name = %s", (name,))
        if value is not None:
            pg.execute(f"insert into {RECORDS} values (%s, %s)", (name, value))


def dbt_build(url: str, log_path: Path, target_path: Path, as_of: str | None = None) -> int:
    """``dbt build`` of the whole project on the ``postgres`` target; dbt's output goes to ``log_path``.

    Unit tests are left out: they are checked on DuckDB (their fixtures compile the model under test outside its
    graph, where the PostgreSQL column lists are not known). ``target_path`` keeps this build's manifest apart
    from the DuckDB one Dagster reads."""
    import subprocess

    from citystat.settings import DBT_AS_OF_ENV, dbt_executable, project_root

    project = project_root() / "dbt_project"
    command = [dbt_executable(), "build", "--exclude", "resource_type:unit_test", "--project-dir", str(project),
               "--profiles-dir", str(project), "--target-path", str(target_path), "--log-path", str(log_path.parent)]
    # The as-of date as an env var, not --vars: a daily new var would make dbt re-parse the whole project.
    env = {**os.environ, **dbt_postgres_env(url), DBT_AS_OF_ENV: as_of or ""}
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
