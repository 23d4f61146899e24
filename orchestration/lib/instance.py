"""The persistent Dagster instance every entry point shares (`citystat run`, `make ui`, tests): DAGSTER_HOME and
its dagster.yaml.

* SQLite storage under DAGSTER_HOME, the event log through lib/event_log.py, which writes an event in ~3 ms instead
  of Dagster's ~33 (CITYSTAT_FAST_EVENT_LOG=0 goes back to Dagster's own): no server to run. With CITYSTAT_DAGSTER_POSTGRES_URL set
  (postgresql://user:password@host:port/db), run, event-log and schedule storage live in that PostgreSQL database
  instead (dagster-postgres): what a deployment with a daemon and several code servers needs. dagster.yaml names
  the variable, never its value, so no password is written to disk.
* One writer at a time on the DuckDB warehouse: every writer asset is in the `warehouse_writer` pool, and each
  pool admits one step at a time (also under `dagster dev`'s multiprocess executor).
* Run monitoring: the daemon under `dagster dev` notices runs whose worker died and fails them, which frees
  their pool slots (`citystat run` does the same itself before it launches, see lib/recovery.py).
"""
from __future__ import annotations

import json
import os
from pathlib import Path

from citystat.settings import project_root

MARKER = "# written by citystat (orchestration/lib/instance.py); remove this line to keep local edits\n"

INSTANCE_CONFIG = MARKER + """\
concurrency:
  pools:
    granularity: op
    default_limit: 1
run_monitoring:
  enabled: true
  start_timeout_seconds: 180
  cancel_timeout_seconds: 180
  poll_interval_seconds: 15
telemetry:
  enabled: false
"""

POSTGRES_URL_ENV = "CITYSTAT_DAGSTER_POSTGRES_URL"

POSTGRES_STORAGE = f"""\
storage:
  postgres:
    postgres_url:
      env: {POSTGRES_URL_ENV}
"""


# Without PostgreSQL: Dagster's SQLite event log in its usual place, minus two fixed costs (lib/event_log.py).
# The path is written out (not `env: DAGSTER_HOME`) so that reading an instance by its folder needs no variable.
SQLITE_EVENT_LOG = """\
event_log_storage:
  module: orchestration.lib.event_log
  class: CityStatSqliteEventLogStorage
  config:
    base_dir: {events_dir}
"""
# Dagster hands the ~520 events it writes when a run is created to the storage as one batch only when this is > 0.
EVENT_BATCH_SIZE = "1000"


def _dagster_postgres_driver() -> None:
    """dagster-postgres 0.29 speaks psycopg2 (its `NOTIFY ..., %(id)s` fails under psycopg 3, SQLAlchemy 2.1's default
    driver for a bare postgresql:// URL): name the driver in this process and the runs it starts. The README tells
    people to write postgresql+psycopg2:// themselves, for the webserver and daemon they start by hand."""
    url = os.environ.get(POSTGRES_URL_ENV, "").strip()
    if url.startswith(("postgresql://", "postgres://")):
        os.environ[POSTGRES_URL_ENV] = "postgresql+psycopg2://" + url.split("://", 1)[1]


def instance_config(home: Path) -> str:
    """The dagster.yaml for DAGSTER_HOME `home`: PostgreSQL storage when CITYSTAT_DAGSTER_POSTGRES_URL is set."""
    if os.environ.get(POSTGRES_URL_ENV, "").strip():
        return INSTANCE_CONFIG + POSTGRES_STORAGE
    # The kept-connection event log is the default since it ran through the whole suite (the schema race that once
    # switched it off was the instance opened outside its lock, see open_instance); CITYSTAT_FAST_EVENT_LOG=0 turns it
    # off (Dagster's own SqliteEventLogStorage, ~10x the cost of an event).
    if os.environ.get("CITYSTAT_FAST_EVENT_LOG", "1").strip() != "0":
        return INSTANCE_CONFIG + SQLITE_EVENT_LOG.format(events_dir=json.dumps(str(home.resolve() / "history" / "runs") + "/"))
    return INSTANCE_CONFIG


def dagster_home() -> Path:
    """DAGSTER_HOME, defaulting to `<repo>/.dagster_home` (the same one `make ui` uses), with its dagster.yaml.

    A dagster.yaml this module wrote earlier is brought up to date; one edited by hand (marker removed) is kept.
    """
    home = Path(os.environ.get("DAGSTER_HOME") or project_root() / ".dagster_home").resolve()
    home.mkdir(parents=True, exist_ok=True)
    config = home / "dagster.yaml"
    _dagster_postgres_driver()
    wanted = instance_config(home)
    if not config.exists() or (config.read_text().startswith(MARKER) and config.read_text() != wanted):
        config.write_text(wanted)
    os.environ["DAGSTER_HOME"] = str(home)
    if not os.environ.get(POSTGRES_URL_ENV, "").strip():  # dagster-postgres batches only materializations itself
        os.environ.setdefault("DAGSTER_EVENT_BATCH_SIZE", EVENT_BATCH_SIZE)
    return home


def open_instance(home: str | Path | None = None):
    """The Dagster instance in `home` (default: DAGSTER_HOME, prepared by dagster_home()), opened under a lock there.

    Opening an instance creates its SQLite storages (runs, event log, schedules) and stamps their schema version.
    Two processes doing it at the same moment on a fresh DAGSTER_HOME (a run and a test or a UI watching it) stamp
    two heads ("alembic_version has more than one head") and that folder is unusable. So every citystat entry point
    opens the instance here: the first creates the storages while the others wait, and after it an opening only
    reads the stamp.
    """
    import fcntl

    from dagster import DagsterInstance
    from dagster._core.instance.ref import InstanceRef

    home = Path(home) if home else dagster_home()
    with open(home / ".storage.lock", "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        instance = DagsterInstance.from_ref(InstanceRef.from_dir(str(home)))
        instance.get_run_records(limit=1)  # any storage Dagster opens lazily is created under the lock too
        instance.event_log_storage.get_concurrency_keys()
        if instance.schedule_storage is not None:
            instance.schedule_storage.all_instigator_state()
    return instance


if __name__ == "__main__":  # `python -m orchestration.lib.instance` (make ui): create the storage, print DAGSTER_HOME
    print(dagster_home())
    open_instance().dispose()
