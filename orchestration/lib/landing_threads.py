"""Independent sources extracted side by side on threads, inside the run's one process.

Dagster's in-process executor (the default, see orchestration/defs/automation/jobs.py) runs one step after
another, and it has no threaded executor. Extraction mostly waits: on an API's answers, a database, the disk. So
the first raw landing step of a run starts every raw landing in the run's plan on a thread pool
(``$CITYSTAT_LANDING_THREADS`` at once); each raw step then waits for its own dataset's outcome and reports it as
before: its batch, or its own error. Nothing else changes:

- one source that fails or hangs holds back no other: each landing has its own deadlines and its own outcome;
- landings write only their own Parquet batches and append their ledger line under a lock (citystat.landing);
  none touches the DuckDB warehouse, whose writers run later, one at a time;
- the connectors' log lines of each dataset are kept apart and shown in that dataset's step;
- the demo city's HTTP systems, when a run needs them, are served once for all its landings.

``$CITYSTAT_LANDING_THREADS=1`` lands one source after another inside each step (the behaviour before).
Measured in benchmarks/parallel_landing.py; figures in benchmarks/README.md.
"""
from __future__ import annotations

import atexit
import logging
import queue
import threading
from concurrent.futures import Future
from contextlib import ExitStack, contextmanager
from typing import Callable, Iterator

from citystat.connectors import SourceSpec, build_connector
from citystat.ingestion import source_spec
from citystat.landing import LoadResult
from citystat.settings import whole_number
from data_inventory import DatasetRef
from orchestration.lib.demo_city_apis import demo_server, needs_demo_server, served_spec

LANDING_THREADS_ENV = "CITYSTAT_LANDING_THREADS"
DEFAULT_LANDING_THREADS = 4
LANDING_LOGGERS = ("citystat.connectors", "citystat.landing", __name__)

log = logging.getLogger(__name__)
log.setLevel(logging.INFO)  # its one INFO line (the served demo city) reaches the step log, not the console
Landed = tuple[SourceSpec, LoadResult]


def landing_threads() -> int:
    return whole_number(LANDING_THREADS_ENV, DEFAULT_LANDING_THREADS)


def land(ref: DatasetRef, ingestion, demo_city: Callable[[ExitStack], str]) -> Landed:
    """Land what is new in one dataset; ``demo_city`` serves the demo city when the source needs it."""
    spec = source_spec(ref, ingestion.data_path())
    with ExitStack() as stack:
        if needs_demo_server(ref, ingestion.data_path()):
            base = demo_city(stack)
            log.info("%s: no URL in $%s; reading the demo city served at %s", ref.name, spec.location_env, base)
            spec = served_spec(spec, base)
        connector = build_connector(spec, ingestion.connector_options())
        return spec, ingestion.landing().load(connector)


def own_demo_city(ingestion) -> Callable[[ExitStack], str]:
    """The demo city served for one landing only."""
    return lambda stack: stack.enter_context(demo_server(ingestion.data_path(), ingestion.log_dir() / "demo_city_server.log"))


_current = threading.local()  # the log records of the landing this thread runs


class _PerLanding(logging.Handler):
    """Keeps each landing thread's log records with its dataset."""

    def emit(self, record: logging.LogRecord) -> None:
        records = getattr(_current, "records", None)
        if records is not None:
            records.append(record)


class RunLandings:
    """The raw landings of one run, started together on a thread pool; each is taken once by its own step."""

    def __init__(self, refs: list[DatasetRef], ingestion, threads: int):
        self.ingestion = ingestion
        self.records: dict[str, list[logging.LogRecord]] = {ref.name: [] for ref in refs}
        self._served = ExitStack()
        self._served_base: str | None = None
        self._served_lock = threading.Lock()
        self._handler = _PerLanding(logging.INFO)
        for name in LANDING_LOGGERS:
            logging.getLogger(name).addHandler(self._handler)
        self._by_name: dict[str, Future] = {ref.name: Future() for ref in refs}
        self.futures = dict(self._by_name)  # not yet taken by their steps
        self._queue: queue.SimpleQueue = queue.SimpleQueue()
        for ref in refs:
            self._queue.put(ref)
        # daemon threads (a ThreadPoolExecutor's are not): a run that is cancelled or crashes exits at once, as a
        # one-at-a-time run would, instead of waiting out every landing's deadline while holding its dataset's lock
        # (an unfinished batch is never committed; the next load tidies it away)
        for number in range(min(threads, len(refs))):
            threading.Thread(target=self._work, name=f"landing-{number}", daemon=True).start()
        atexit.register(self._served.close)  # a run that ends before its landings still stops the served demo city
        # when the last landing ends: stop the shared demo city and stop collecting log records
        threading.Thread(target=self._close_when_done, name="landing-close", daemon=True).start()

    def _demo_city(self, stack: ExitStack) -> str:
        with self._served_lock:  # the first landing that needs it starts it; it stays up for the others
            if self._served_base is None:
                self._served_base = self._served.enter_context(
                    demo_server(self.ingestion.data_path(), self.ingestion.log_dir() / "demo_city_server.log"))
            return self._served_base

    def _work(self) -> None:
        while True:
            try:
                ref = self._queue.get_nowait()
            except queue.Empty:
                return
            future = self._by_name[ref.name]
            if not future.set_running_or_notify_cancel():
                continue
            _current.records = self.records[ref.name]
            try:
                future.set_result(land(ref, self.ingestion, self._demo_city))
            except BaseException as exc:  # noqa: BLE001 - the owning step reports it
                future.set_exception(exc)
            finally:
                _current.records = None

    def _close_when_done(self) -> None:
        for future in self._by_name.values():
            try:
                future.exception()  # waits; the outcome itself is the owning step's to report
            except BaseException:  # noqa: BLE001 - cancelled
                pass
        for name in LANDING_LOGGERS:
            logging.getLogger(name).removeHandler(self._handler)
        with self._served_lock:
            self._served.close()
        atexit.unregister(self._served.close)

    def take(self, name: str) -> tuple[Future, list[logging.LogRecord]] | None:
        future = self.futures.pop(name, None)
        return None if future is None else (future, self.records[name])


_runs: dict[str, RunLandings] = {}
_runs_lock = threading.Lock()


def started_landing(run_id: str, name: str, plan_refs: Callable[[], list[DatasetRef]], ingestion
                    ) -> tuple[Future, list[logging.LogRecord]] | None:
    """This run's landing of dataset ``name``, started on the run's thread pool (with every other raw landing
    of the run's plan) if it is not yet; None when the dataset is landed in its own step: one thread
    (``$CITYSTAT_LANDING_THREADS=1``), a plan with one raw landing (each step of the multiprocess executor has
    its own plan of one), or a landing already taken (a step retried)."""
    with _runs_lock:
        landings = _runs.get(run_id)
        if landings is None:
            threads = landing_threads()
            refs = plan_refs()
            if threads == 1 or len(refs) < 2 or name not in {ref.name for ref in refs}:
                return None
            landings = _runs[run_id] = RunLandings(refs, ingestion, threads)
        taken = landings.take(name)
        if not landings.futures:
            del _runs[run_id]
        return taken


@contextmanager
def records_replayed(records: list[logging.LogRecord], emit: Callable[[logging.LogRecord], None]) -> Iterator[None]:
    """Hand a landing's kept log records to its step, whatever its outcome."""
    try:
        yield
    finally:
        for record in records:
            emit(record)
