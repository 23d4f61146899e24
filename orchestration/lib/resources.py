"""The ingestion's Dagster resource: where the demo city and the warehouse are, and how hard to retry.

Paths left unset are read from the environment when a run starts (``citystat.settings``),
not at import, so ``dagster dev`` picks up ``CITYSTAT_DATA_DIR`` / ``CITYSTAT_WAREHOUSE_DIR`` of the
process that runs the assets. Tests pass small retry waits to stay fast.
"""
from __future__ import annotations

from contextlib import contextmanager
from pathlib import Path
from typing import Optional

import dagster as dg
from dagster_duckdb import DuckDBResource

from citystat import settings
from citystat.connectors import ConnectorOptions, RetryPolicy
from citystat.landing import Landing
from citystat.warehouse import cap_memory, work_db_path


class IngestionResource(dg.ConfigurableResource):
    data_dir: Optional[str] = None  # default: $CITYSTAT_DATA_DIR, else var/demo_city
    warehouse_dir: Optional[str] = None  # default: $CITYSTAT_WAREHOUSE_DIR, else warehouse
    retry_attempts: int = 4
    retry_initial_wait: float = 0.5  # seconds; doubles per retry
    retry_max_wait: float = 8.0
    http_timeout: float = 30.0  # per socket operation
    request_deadline: float = 30.0  # per whole HTTP answer
    # per extraction (every request and retry of one asset); unset: $CITYSTAT_ASSET_DEADLINE, else 300 s. A large
    # city's first load (scale 100: 8.5 M service requests paged over Open311) needs more than a daily run does.
    asset_deadline: Optional[float] = None
    page_size: int = 1000
    chunk_rows: int = 50_000
    sqlite_busy_timeout: float = 1.0

    def data_path(self) -> Path:
        return settings.data_dir(self.data_dir)

    def log_dir(self) -> Path:
        """Where tool logs go (the demo city's server, ...): ``<warehouse>/logs``."""
        return settings.warehouse_dir(self.warehouse_dir) / "logs"

    def landing(self) -> Landing:
        return Landing(settings.landing_dir(self.warehouse_dir))

    def connector_options(self) -> ConnectorOptions:
        return ConnectorOptions(
            retry=RetryPolicy(self.retry_attempts, self.retry_initial_wait, self.retry_max_wait),
            http_timeout=self.http_timeout,
            request_deadline=self.request_deadline,
            asset_deadline=(self.asset_deadline if self.asset_deadline is not None
                            else float(settings.whole_number(settings.ASSET_DEADLINE_ENV, 300))),
            page_size=self.page_size,
            chunk_rows=self.chunk_rows,
            sqlite_busy_timeout=self.sqlite_busy_timeout,
        )


class WarehouseResource(DuckDBResource):
    """DuckDB on the working warehouse, whose folder may not exist yet: on a fresh warehouse a step that needs
    no landed data (the inventory catalog) can be the first of a run (DuckDB creates the file, not the folder).
    Under the run's memory cap (citystat.warehouse.cap_memory)."""

    @contextmanager
    def get_connection(self):
        Path(self.database).parent.mkdir(parents=True, exist_ok=True)
        with super().get_connection() as con:
            yield cap_memory(con)


class PostgresWarehouseResource(dg.ConfigurableResource):
    """The warehouse on PostgreSQL (``CITYSTAT_WAREHOUSE_POSTGRES_URL``): a SQLAlchemy Core connection in one
    transaction, committed when the step's block ends and rolled back when it raises. citystat.warehouse's
    helpers take it where they take a DuckDB connection."""

    url: str

    @contextmanager
    def get_connection(self):
        import sqlalchemy as sa

        from citystat.postgres_warehouse import sqlalchemy_url

        engine = sa.create_engine(sqlalchemy_url(self.url), poolclass=sa.NullPool)
        try:
            with engine.begin() as con:
                yield con
        finally:
            engine.dispose()


def warehouse_resource() -> dg.ConfigurableResource:
    """The Dagster resource metrics assets use (`warehouse`): a connection to the working warehouse, DuckDB's
    file or, when ``CITYSTAT_WAREHOUSE_POSTGRES_URL`` is set, PostgreSQL (read when the definitions load)."""
    from citystat.postgres_warehouse import POSTGRES_URL_ENV, configured_url

    if configured_url():  # the URL itself (it holds the password) is read when a step runs, never shown in the UI
        return PostgresWarehouseResource(url=dg.EnvVar(POSTGRES_URL_ENV))
    return WarehouseResource(database=str(work_db_path()))
