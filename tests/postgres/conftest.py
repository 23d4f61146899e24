"""A real PostgreSQL server for the tests in this folder (scripts/start_postgres.sh starts one on 127.0.0.1).

The server is found through CITYSTAT_TEST_POSTGRES_URL (what .ci/run exports), else the 0600 file the start script
writes. Without either the tests are skipped locally, but in CI (CI=1) they FAIL: CI must run them. Each test gets
its own throwaway database, so runs in parallel worktrees or after a crash never see each other's tables.
"""
import os
import shutil
import tempfile
import uuid
from pathlib import Path

import pytest

from own_postgres import OwnServer, drop_database, postgres_bin

URL_ENV = "CITYSTAT_TEST_POSTGRES_URL"
URL_FILE = Path(os.environ.get("CITYSTAT_POSTGRES_URL_FILE") or Path.home() / ".config/citystat/test-postgres-url")


def _server_url() -> str | None:
    url = os.environ.get(URL_ENV, "").strip()
    if not url and URL_FILE.is_file():
        url = URL_FILE.read_text().strip()
    return url or None


@pytest.fixture(scope="session")
def postgres_server_url() -> str:
    """The test role's URL on a server that answers (skip locally when there is none; fail when CI=1)."""
    import psycopg

    required = os.environ.get("CI", "").lower() not in ("", "0", "false")
    url = _server_url()
    problem = None
    if url is None:
        problem = f"no PostgreSQL for the tests: run scripts/start_postgres.sh or set {URL_ENV}"
    else:
        try:
            psycopg.connect(url, connect_timeout=10).close()
        except psycopg.Error as error:  # the message names host and port, never the password
            problem = f"PostgreSQL at {URL_ENV} is unreachable: {str(error).splitlines()[0][:200]}"
    if problem:
        if required:
            pytest.fail(problem + " (CI=1: the PostgreSQL tests must run)")
        pytest.skip(problem)
    return url


@pytest.fixture
def postgres_url(postgres_server_url) -> str:
    """A URL of a fresh, empty database of its own, dropped after the test."""
    import psycopg
    from sqlalchemy.engine import make_url

    name = f"citystat_t_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(postgres_server_url, autocommit=True) as con:
        con.execute(f'create database "{name}"')
    yield make_url(postgres_server_url).set(database=name).render_as_string(hide_password=False)
    drop_database(postgres_server_url, name)


@pytest.fixture
def own_server():
    """A PostgreSQL server of the test's own (own_postgres.py), with database `citystat` and role `analyst`; the
    test may kill it. Its binaries are required in CI."""
    import psycopg

    bin_dir = postgres_bin()
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
