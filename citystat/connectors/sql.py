"""SQL databases through SQLAlchemy: SQLite files now, PostgreSQL (or any dialect) by URL.

Configured from the inventory entry: ``location`` is a SQLAlchemy URL (normally supplied through the
entry's environment variable, since it may hold a password) or a SQLite file path;
``source_object`` the table (``schema.table`` allowed). With ``cursor_field`` the load is
incremental (``cursor >= mark`` ordered by cursor and primary key); without, a full snapshot.
Rows stream from one server-side query in chunks, so a large table is never held in memory.

Reconciled against the database's own count: ``count(*)`` of the same query, in the same read transaction as the
rows (SQLite: one deferred transaction; PostgreSQL: REPEATABLE READ), so both see one state of the table. The rows
that arrive must equal that count, or the load fails naming the dataset and both counts and nothing commits; a
snapshot's count is also its ``source_rows`` in the ledger, which the reconciliation check proves.

Deadlines, as for HTTP: opening the read (count and query, with every retry) must finish within the asset deadline,
and each fetch of a chunk within the request deadline, so a database that stops answering (a query stuck behind a
lock, a server that hangs) fails that dataset alone, naming the database, the attempts and the time spent; a large
table that keeps delivering rows is never cut off. SQLite: a progress handler interrupts the statement; PostgreSQL:
``statement_timeout``.
"""
from __future__ import annotations

import sqlite3
import time
from pathlib import Path
from typing import Iterator

import sqlalchemy as sa
from sqlalchemy.pool import NullPool

from citystat.connectors.base import Chunk, SourceError, SourceSpec, SourceState, SourceUnavailable
from citystat.connectors.retry import RetryPolicy, call_with_retries

TRANSIENT_MESSAGES = ("database is locked", "database table is locked", "busy", "could not connect",
                      "connection refused", "server closed the connection", "timeout expired")


def is_transient(exc: BaseException) -> bool:
    """A locked SQLite file or an unreachable/restarting server; not a wrong table or bad SQL."""
    if isinstance(exc, sa.exc.DBAPIError) and exc.connection_invalidated:
        return True
    if isinstance(exc, (sa.exc.OperationalError, sa.exc.TimeoutError)):
        return any(m in str(exc).lower() for m in TRANSIENT_MESSAGES)
    return False


def describe(exc: BaseException) -> str:
    original = getattr(exc, "orig", None)
    return f"{type(original or exc).__name__}: {original or exc}"


def database_url(location: str) -> sa.URL:
    """A SQLAlchemy URL as is; a bare path as a SQLite URL."""
    return sa.make_url(location) if "://" in location else sa.URL.create("sqlite", database=str(Path(location).resolve()))


class _Deadline:
    """The instant the running statement must end by (``time.monotonic()``), None = no limit."""

    def __init__(self):
        self.at: float | None = None
        self.seconds = 0.0
        self.what = ""

    def set(self, seconds: float | None, what: str, cap: float | None = None) -> None:
        if seconds is None:
            self.at = cap
        else:
            self.at = time.monotonic() + seconds if cap is None else min(cap, time.monotonic() + seconds)
        self.seconds, self.what = (self.at - time.monotonic() if self.at is not None else 0.0), what

    def passed(self) -> bool:
        return self.at is not None and time.monotonic() > self.at


class SqlConnector:
    def __init__(self, spec: SourceSpec, *, policy: RetryPolicy, chunk_rows: int = 50_000, busy_timeout: float = 1.0,
                 request_deadline: float | None = None, asset_deadline: float | None = None):
        self.spec, self.policy, self.chunk_rows, self.busy_timeout = spec, policy, chunk_rows, busy_timeout
        self.request_deadline, self.asset_deadline = request_deadline, asset_deadline
        self.url = database_url(spec.location)
        self.where = f"reading {self.spec.source_object} from {self.url.render_as_string(hide_password=True)}"

    def _engine(self) -> sa.Engine:
        if self.url.get_backend_name() != "sqlite" or not self.url.database or self.url.database == ":memory:":
            return sa.create_engine(self.url, poolclass=NullPool)
        path = Path(self.url.database)
        if not path.is_file():
            raise SourceError(f"{self.spec.label}: database file {path} does not exist")
        # Read-only URI: extraction can never change the source, and a wrong path never creates a file.
        uri, timeout = f"{path.resolve().as_uri()}?mode=ro", self.busy_timeout
        # isolation_level=None: the driver sends no BEGIN of its own, so the one extract() sends holds the read
        return sa.create_engine("sqlite://", poolclass=NullPool,
                                creator=lambda: sqlite3.connect(uri, uri=True, timeout=timeout, isolation_level=None))

    def _query(self, table: sa.Table, state: SourceState) -> sa.Select:
        query = sa.select(table)
        cursor = self.spec.cursor_field
        if not cursor:
            return query
        if cursor not in table.c:
            raise SourceError(f"{self.spec.label}: cursor_field {cursor!r} is not a column of {table.fullname} "
                              f"(columns: {', '.join(table.c.keys())})")
        missing = [k for k in self.spec.primary_key if k not in table.c]
        if missing:
            raise SourceError(f"{self.spec.label}: primary_key columns {missing} are not in {table.fullname}")
        if state.watermark.value is not None:
            query = query.where(table.c[cursor] >= state.watermark.value)
        return query.order_by(table.c[cursor], *(table.c[k] for k in self.spec.primary_key))

    def extract(self, state: SourceState) -> Iterator[Chunk]:
        engine = self._engine()
        schema, _, name = self.spec.source_object.rpartition(".")
        started = time.monotonic()
        asset_end = started + self.asset_deadline if self.asset_deadline is not None else None
        deadline, attempts = _Deadline(), [0]

        def timed_out(exc: BaseException) -> SourceUnavailable:
            return SourceUnavailable(self.spec, self.where, attempts[0],
                                     f"{deadline.what} did not finish within its {deadline.seconds:.3g} s deadline "
                                     f"({describe(exc)})", time.monotonic() - started)

        try:
            with engine.connect() as conn:
                backend = conn.dialect.name
                if backend == "postgresql":  # count and rows from one snapshot of the table
                    conn = conn.execution_options(isolation_level="REPEATABLE READ")
                raw = conn.connection.dbapi_connection
                if backend == "sqlite":  # a non-zero answer interrupts the running statement
                    raw.set_progress_handler(lambda: int(deadline.passed()), 1000)

                def limit(seconds: float | None, what: str, cap: float | None = None) -> None:
                    deadline.set(seconds, what, cap)
                    if backend == "postgresql" and deadline.at is not None:  # for this transaction's statements
                        # on the driver's connection: the SQLAlchemy one streams results by now (a server cursor)
                        raw.execute(f"SET LOCAL statement_timeout = {max(1, int(deadline.seconds * 1000))}")

                def start() -> tuple[int, sa.CursorResult]:
                    attempts[0] += 1
                    if backend == "sqlite" and not raw.in_transaction:
                        conn.exec_driver_sql("BEGIN")  # deferred: the read lock taken by count(*) holds until the end
                    limit(None, "opening the read (count and query)", asset_end)
                    table = sa.Table(name, sa.MetaData(), schema=schema or None, autoload_with=conn)
                    query = self._query(table, state)
                    expected = conn.execute(sa.select(sa.func.count()).select_from(query.order_by(None).subquery())).scalar_one()
                    return expected, conn.execution_options(stream_results=True, max_row_buffer=self.chunk_rows).execute(query)

                try:
                    expected, result = call_with_retries(start, policy=self.policy, is_transient=is_transient,
                                                         describe=describe, spec=self.spec, where=self.where,
                                                         deadline=asset_end)
                except sa.exc.NoSuchTableError:
                    raise SourceError(f"{self.spec.label}: no table {self.spec.source_object!r} in "
                                      f"{self.url.render_as_string(hide_password=True)}") from None
                except sa.exc.DBAPIError as exc:
                    if deadline.passed():
                        raise timed_out(exc) from exc
                    raise
                arrived = [0]
                try:
                    yield from self._chunks(result, state, arrived,
                                            lambda: limit(self.request_deadline, "fetching a chunk of rows"))
                except sa.exc.DBAPIError as exc:
                    if deadline.passed():
                        raise timed_out(exc) from exc
                    raise
                if arrived[0] != expected:
                    raise SourceError(f"{self.spec.label}: {self.spec.source_object} counts {expected} rows (count(*)) "
                                      f"but {arrived[0]} arrived in the same read; nothing of this load is committed")
                if not self.spec.cursor_field:
                    state.source_count = expected
        finally:
            engine.dispose()

    def _chunks(self, result: sa.CursorResult, state: SourceState, arrived: list[int],
                before_fetch) -> Iterator[Chunk]:
        names = list(result.keys())
        cursor = self.spec.cursor_field
        cursor_at = names.index(cursor) if cursor else None
        key_at = [names.index(k) for k in self.spec.primary_key] if cursor else []
        while True:
            before_fetch()  # each fetch has the request deadline, however long the rows' writing took
            rows = result.fetchmany(self.chunk_rows)
            if not rows:
                break
            arrived[0] += len(rows)
            if cursor_at is not None:
                kept = []
                for row in rows:
                    row_id = "|".join(str(row[i]) for i in key_at) if key_at else None
                    if not state.watermark.already_landed(row[cursor_at], row_id):
                        state.watermark.observe(row[cursor_at], row_id)
                        kept.append(row)
                rows = kept
            if not rows:
                continue
            columns = {name: list(values) for name, values in zip(names, zip(*rows))}
            yield Chunk(columns, len(rows), cursor_values=columns[cursor] if cursor else None)
