"""PostgreSQL killed in the middle of `citystat postgres build`: the command fails with one clear line, the published
schemas (published_marts, published_quality) are still the previous build's, and once the server is back the next
build completes and publishes; the reader role (CITYSTAT_WAREHOUSE_POSTGRES_READER) reads the publication only.

The server is one of the test's own (initdb + pg_ctl in a temporary folder, a free port on 127.0.0.1, trust
authentication for its one role): killing the shared server would break every other engineer's tests.
"""
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from pipeline_helpers import ROOT

PUBLISHED = ("published_marts", "published_quality")
MARKER = "the first build"


def _postgres_bin() -> Path | None:
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


@pytest.fixture
def own_server():
    import psycopg

    bin_dir = _postgres_bin()
    if bin_dir is None:
        message = "PostgreSQL's server binaries are not installed (scripts/install_system_deps.sh)"
        if os.environ.get("CI", "").lower() not in ("", "0", "false"):
            pytest.fail(message + " (CI=1: the PostgreSQL tests must run)")
        pytest.skip(message)
    folder = Path(tempfile.mkdtemp(prefix="citystat-pgkill-"))  # not pytest's tmp_path: the postgres user needs it
    if os.geteuid() == 0:
        shutil.chown(folder, "postgres", "postgres")
    server = OwnServer(bin_dir, folder)
    try:
        server.init()
        server.start()
        with psycopg.connect(server.url.rsplit("/", 1)[0] + "/postgres", autocommit=True) as con:
            con.execute("create database citystat")
            con.execute("create role analyst login")  # the read-only role the publication is granted to
        yield server
    finally:
        server.stop()
        shutil.rmtree(folder, ignore_errors=True)


def _published(url: str) -> dict[str, tuple[int, str]]:
    """(rows, md5 of the sorted rows) of every published table, computed by PostgreSQL."""
    import psycopg

    with psycopg.connect(url) as con:
        tables = con.execute("select table_schema, table_name from information_schema.tables "
                             "where table_schema = any(%s) order by 1, 2", (list(PUBLISHED),)).fetchall()
        return {f"{s}.{t}": con.execute(f'select count(*), md5(coalesce(string_agg(r::text, \'|\' order by r::text), \'\')) '
                                         f'from "{s}"."{t}" as r').fetchone() for s, t in tables}


def _marker(url: str) -> str | None:
    import psycopg

    with psycopg.connect(url) as con:
        return con.execute("select obj_description('published_marts'::regnamespace, 'pg_namespace')").fetchone()[0]


def _build(env: dict, **kwargs) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "citystat.cli", "postgres", "build"], cwd=ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **kwargs)


def _wait_for_dbt_creating_a_table(url: str, build: subprocess.Popen, timeout: float = 300) -> str:
    """Block until dbt, in the build, is creating a model's table (its `__dbt_tmp` relation); that query's text."""
    import psycopg

    deadline = time.monotonic() + timeout
    with psycopg.connect(url, autocommit=True) as con:
        while time.monotonic() < deadline:
            assert build.poll() is None, f"the build ended before dbt created a table: {build.communicate()}"
            row = con.execute("select query from pg_stat_activity where state = 'active' and pid <> pg_backend_pid() "
                              "and query like '%%__dbt_tmp%%' limit 1").fetchone()
            if row:
                return row[0]
            time.sleep(0.2)
    raise AssertionError("dbt never created a table within the timeout")


@pytest.mark.timeout(900)
def test_killing_postgres_mid_build_keeps_the_published_schemas_and_the_next_build_completes(pipeline, own_server):
    env = {**pipeline.env, "CITYSTAT_WAREHOUSE_POSTGRES_URL": own_server.url, "CITYSTAT_WAREHOUSE_POSTGRES_READER": "analyst",
           "PYTHONUNBUFFERED": "1"}
    import psycopg

    # 1. a first build publishes; mark the publication so a later swap (or damage) shows
    first = _build(env)
    out, err = first.communicate(timeout=600)
    assert first.returncode == 0, out[-3000:] + err[-3000:]
    before = _published(own_server.url)
    assert sum(1 for name in before if name.startswith("published_marts.")) >= 15
    assert before["published_marts.fct_expenditures"][0] > 0
    with psycopg.connect(own_server.url) as con:
        con.execute(f"comment on schema published_marts is '{MARKER}'")

    # 2. a second build; the server is killed while dbt creates a table
    second = _build(env)
    query = _wait_for_dbt_creating_a_table(own_server.url, second)
    own_server.kill()
    out, err = second.communicate(timeout=600)
    assert second.returncode != 0, out[-3000:]
    lines = err.strip().splitlines()
    assert len(lines) == 1, err[-3000:]
    assert lines[0].startswith("error: PostgreSQL became unreachable (") and "127.0.0.1" in lines[0], lines[0]
    assert "the published schemas are the previous build's" in lines[0] and "password" not in lines[0].lower()
    assert "PostgreSQL warehouse built and published" not in out
    assert "__dbt_tmp" in query

    # 3. the server back (crash recovery): the publication is the first build's, whole
    own_server.start()
    assert _marker(own_server.url) == MARKER
    assert _published(own_server.url) == before

    # 4. the next build completes and publishes again (the swap drops the marker with the old schema)
    third = _build(env)
    out, err = third.communicate(timeout=600)
    assert third.returncode == 0, out[-3000:] + err[-3000:]
    assert "PostgreSQL warehouse built and published" in out
    assert _marker(own_server.url) is None
    assert _published(own_server.url) == before  # the same landing: the same published rows
    with psycopg.connect(own_server.url) as con:  # no side copy left behind
        assert con.execute("select count(*) from pg_namespace where nspname like 'publishing_%'").fetchone()[0] == 0

    # 5. the reader role reads the publication and nothing else
    analyst = own_server.url.replace("citystat@", "analyst@", 1)
    with psycopg.connect(analyst, autocommit=True) as con:
        assert con.execute("select count(*) from published_marts.fct_expenditures").fetchone()[0] == \
            before["published_marts.fct_expenditures"][0]
        for statement in ("select count(*) from marts.fct_expenditures",
                          "create table published_marts.mine (x int)",
                          "delete from published_marts.fct_expenditures"):
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                con.execute(statement)
