"""A PostgreSQL server of a test's own, for the tests that kill it (test_postgres_kill.py, test_postgres_run_recovery.py):
initdb + pg_ctl in a temporary folder, a free port on 127.0.0.1, trust authentication for its one role. Killing the
shared server would break every other engineer's tests. The `own_server` fixture is in this folder's conftest.py."""
import os
import socket
import subprocess
import time
from pathlib import Path


def postgres_bin() -> Path | None:
    versions = sorted(Path("/usr/lib/postgresql").glob("*/bin/pg_ctl"), key=lambda p: int(p.parent.parent.name))
    return versions[-1].parent if versions else None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class OwnServer:
    """A PostgreSQL server of this test's own: started, killed (immediate: no clean shutdown) and started again."""

    def __init__(self, bin_dir: Path, folder: Path):
        self.bin, self.data, self.port = bin_dir, folder / "data", _free_port()
        self.log = folder / "server.log"
        # initdb and the server refuse to run as root: as root, run them as the postgres OS user
        self.as_user = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        self.url = f"postgresql://citystat@127.0.0.1:{self.port}/citystat"

    def _run(self, *args: str) -> None:
        subprocess.run([*self.as_user, *args], check=True, capture_output=True, timeout=120)

    def init(self) -> None:
        self._run(str(self.bin / "initdb"), "-D", str(self.data), "-U", "citystat", "--auth=trust", "--no-sync")

    def start(self) -> None:
        options = f"-p {self.port} -k {self.data} -c listen_addresses=127.0.0.1 -c fsync=off"
        self._run(str(self.bin / "pg_ctl"), "-D", str(self.data), "-l", str(self.log), "-o", options, "-w", "start")

    def kill(self) -> None:
        self._run(str(self.bin / "pg_ctl"), "-D", str(self.data), "-m", "immediate", "stop")

    def stop(self) -> None:
        subprocess.run([*self.as_user, str(self.bin / "pg_ctl"), "-D", str(self.data), "-m", "fast", "stop"],
                       capture_output=True, timeout=120)


def published(url: str, schemas: tuple[str, ...], ignore: dict[str, set[str]] | None = None) -> dict[str, tuple[int, str]]:
    """(rows, md5 of the sorted rows) of every table of `schemas`, computed by PostgreSQL; `ignore` leaves columns out
    ("schema.table" -> column names: values stamped by a run's clock)."""
    import psycopg

    with psycopg.connect(url) as con:
        tables = con.execute("select table_schema, table_name from information_schema.tables "
                             "where table_schema = any(%s) order by 1, 2", (list(schemas),)).fetchall()
        digests = {}
        for s, t in tables:
            left_out = (ignore or {}).get(f"{s}.{t}", set())
            columns = [c for (c,) in con.execute("select column_name from information_schema.columns where table_schema "
                                                 "= %s and table_name = %s order by ordinal_position", (s, t)) if c not in left_out]
            select = ", ".join(f'"{c}"' for c in columns)
            digests[f"{s}.{t}"] = con.execute(
                f"select count(*), md5(coalesce(string_agg(r::text, '|' order by r::text), '')) "
                f'from (select {select} from "{s}"."{t}") as r').fetchone()
        return digests


def schema_comment(url: str, schema: str) -> str | None:
    import psycopg

    with psycopg.connect(url) as con:
        return con.execute("select obj_description(%s::regnamespace, 'pg_namespace')", (schema,)).fetchone()[0]


def wait_for_dbt_creating_a_table(url: str, process: subprocess.Popen, timeout: float = 300) -> str:
    """Block until dbt, in `process`, is creating a model's table (its `__dbt_tmp` relation); that query's text."""
    import psycopg

    deadline = time.monotonic() + timeout
    with psycopg.connect(url, autocommit=True) as con:
        while time.monotonic() < deadline:
            assert process.poll() is None, f"the process ended before dbt created a table: {process.communicate()}"
            row = con.execute("select query from pg_stat_activity where state = 'active' and pid <> pg_backend_pid() "
                              "and query like '%%__dbt_tmp%%' limit 1").fetchone()
            if row:
                return row[0]
            time.sleep(0.2)
    raise AssertionError("dbt never created a table within the timeout")


def drop_database(admin_url: str, name: str, attempts: int = 120) -> None:
    """Drop a test's database, ending its sessions first. An autovacuum worker busy in it makes `drop database ...
    with (force)` fail for a role that is not a superuser (PostgreSQL checks the worker's role; seen at a teardown
    right after a run wrote many tables): wait for the worker to finish and try again."""
    import time

    import psycopg

    for attempt in range(attempts):
        try:
            with psycopg.connect(admin_url, autocommit=True) as con:
                con.execute(f'drop database if exists "{name}" with (force)')
            return
        except psycopg.errors.InsufficientPrivilege:
            if attempt == attempts - 1:
                raise
            time.sleep(0.5)
