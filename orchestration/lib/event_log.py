"""Dagster's SQLite event log without its per-event fixed cost (the storage `dagster.yaml` names without PostgreSQL).

Measured here (benchmarks/fixed_costs.py; cProfile of 200 events): Dagster's SqliteEventLogStorage writes each
event with a new SQLAlchemy engine and a new sqlite3 connection (NullPool), committed with an fsync; closing the
connection, the last one on that WAL database, checkpoints the WAL into the database (a second fsync). Commit and
close were ~24 ms of the ~30 ms an event cost, and a run writes one to two thousand events (the ~520 "planned"
events Dagster writes when the run is created included). This subclass keeps Dagster's files, schema and code
for every query and write, and changes only the connections:
* one engine per database file, kept, with a small pool of open connections (no checkpoint at every event; SQLite
  checkpoints every 1,000 pages instead);
* `PRAGMA synchronous=NORMAL` (SQLite's recommended setting in WAL mode): a commit writes the WAL without an fsync.
  The database stays consistent after any crash; a power cut may lose the last events of a run, which the
  stale-run recovery (lib/recovery.py) then reports as failed;
* `store_event_batch` writes a batch in one transaction per database file (Dagster hands it the planned events as
  one batch when DAGSTER_EVENT_BATCH_SIZE > 0, which `orchestration.lib.instance` sets). A failed batch is rolled
  back and Dagster writes its events one by one instead.
A forked child (the run worker of orchestration/run.py) drops the pooled connections it inherited, unused.
"""
from __future__ import annotations

import os
import threading
import weakref
from collections import OrderedDict
from contextlib import contextmanager

from dagster._core.storage.event_log.sqlite.sqlite_event_log import SqliteEventLogStorage
from sqlalchemy import create_engine, event

SQLITE_BUSY_TIMEOUT_SECONDS = 30  # as Dagster's own SQLite storages
KEPT_ENGINES = 8  # the index, the run being written and a few being read
_STORAGES: weakref.WeakSet = weakref.WeakSet()


def _synchronous_normal(dbapi_connection, _record) -> None:
    dbapi_connection.execute("PRAGMA synchronous=NORMAL")


def _forget_pools_in_child() -> None:
    for storage in list(_STORAGES):  # the parent's connections are the parent's: never use or close them here
        for engine in storage._engines.values():
            engine.dispose(close=False)


os.register_at_fork(after_in_child=_forget_pools_in_child)


class CityStatSqliteEventLogStorage(SqliteEventLogStorage):
    """SqliteEventLogStorage (same config: base_dir, Dagster's default is DAGSTER_HOME/history/runs/) with kept
    engines and one transaction per batch."""

    def __init__(self, base_dir: str, inst_data=None):
        self._engines: OrderedDict = OrderedDict()
        self._batch = threading.local()
        super().__init__(base_dir, inst_data=inst_data)
        _STORAGES.add(self)

    @classmethod
    def from_config_value(cls, inst_data, config_value):  # ty: ignore[invalid-method-override]
        return cls(inst_data=inst_data, **config_value)

    def _engine(self, shard: str):
        engine = self._engines.pop(shard, None)
        if engine is None:
            engine = create_engine(self.conn_string_for_shard(shard), pool_size=2, max_overflow=8,
                                   connect_args={"timeout": SQLITE_BUSY_TIMEOUT_SECONDS, "check_same_thread": False})
            event.listen(engine, "connect", _synchronous_normal)
            if shard not in self._initialized_dbs:
                self._initdb(engine)
                self._initialized_dbs.add(shard)
        self._engines[shard] = engine
        while len(self._engines) > KEPT_ENGINES:
            self._engines.popitem(last=False)[1].dispose()
        return engine

    @contextmanager
    def _connect(self, shard: str):
        batch = getattr(self._batch, "connections", None)
        if batch is not None:  # inside store_event_batch (this thread holds the lock): its open transaction
            if shard not in batch:
                connection = self._engine(shard).connect()
                batch[shard] = (connection, connection.begin())
            yield batch[shard][0]
            return
        with self._db_lock:
            with self._engine(shard).connect() as connection, connection.begin():
                yield connection

    def store_event_batch(self, events) -> None:
        if len(events) < 2:
            for event in events:
                self.store_event(event)
            return
        with self._db_lock:
            self._batch.connections = {}
            try:
                for event in events:
                    self.store_event(event)
                # the run's own log last: if the index commit fails, the run's log has none of the batch either
                for shard in sorted(self._batch.connections, key=lambda s: s != "index"):
                    self._batch.connections[shard][1].commit()
            except BaseException:
                for _, transaction in self._batch.connections.values():
                    if transaction.is_active:
                        transaction.rollback()
                raise
            finally:
                for connection, _ in self._batch.connections.values():
                    connection.close()
                self._batch.connections = None

    def dispose(self) -> None:
        for engine in self._engines.values():
            engine.dispose()
        self._engines.clear()
        super().dispose()
