"""Build and serve the Evidence dashboard site (`dashboards/`) from a published snapshot.

The build works with no internet beyond the package registries: `npm ci` installs the pinned
Evidence packages and `patch-package` applies `dashboards/patches` (native DuckDB on the Node side,
Arrow IPC for the browser; see dashboards/README.md). Every Evidence step runs under a timeout, so
an unpatched install, which hangs offline, fails with a clear error instead of waiting forever.
"""
from __future__ import annotations

import hashlib
import json
import os
import resource
import shutil
import signal
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from citystat import dashboard_inputs
from citystat.locks import exclusive_lock
from citystat.release_folders import new_release
from citystat.settings import duckdb_config, project_root, warehouse_dir
from citystat.warehouse import open_file, quote_identifier, quote_literal

DASHBOARDS_DIR = project_root() / "dashboards"
SOURCE_NAME = "citystat"
# connection.yaml names this file relative to sources/citystat/ (Evidence resolves it there).
DASHBOARD_DATABASE = "citystat_dashboards.duckdb"
# @duckdb/node-api 1.4 (Evidence's DuckDB driver) cannot open DuckDB 2.0's default storage.
DASHBOARD_STORAGE_VERSION = "v1.4.0"
INSTALL_STAMP = ".citystat-install.sha256"  # inside node_modules/: what `npm ci` last installed
INSTALL_INPUTS = ("package.json", "package-lock.json", ".npmrc")

NPM_FLAGS = ("--no-audit", "--no-fund", "--loglevel=error")

QUERY_ERROR_MARKER = "Error in Query!"

INSTALL_TIMEOUT_SECONDS = 900
SOURCES_TIMEOUT_SECONDS = 300
BUILD_TIMEOUT_SECONDS = 1200


class DashboardBuildError(RuntimeError):
    """A dashboard build step failed or did not finish in time; the message says which and why."""

    def __init__(self, message: str, output: str = "") -> None:
        super().__init__(message)
        self.output = output  # the failed step's whole output


@dataclass(frozen=True)
class SiteBuild:
    site_dir: Path
    pages: list[str]                      # URL paths of the built pages, e.g. "/departments/pw/"
    tables: list[str]                     # snapshot tables copied for the site, "schema.table"
    seconds: dict[str, float] = field(default_factory=dict)  # install, data, sources, build, total
    # Largest resident set of any process this one has waited for so far (Evidence's build, ~2.8 GB).
    peak_child_memory_mb: float = 0.0
    # Why Evidence ran (changed tables, project files...); empty when the inputs matched the last build and
    # the site on disk was kept as it was (no Evidence step ran).
    rebuilt_because: list[str] = field(default_factory=list)

    @property
    def skipped(self) -> bool:
        return not self.rebuilt_because


def default_snapshot_path() -> Path:
    """The published snapshot: ``CITYSTAT_SNAPSHOT`` or ``<warehouse>/citystat.duckdb``."""
    from citystat.warehouse import snapshot_path  # imports Dagster: only when asked

    return snapshot_path()


def default_site_dir() -> Path:
    return warehouse_dir() / "dashboards"


# --- node install ------------------------------------------------------------------------------

def install_fingerprint(project_dir: Path = DASHBOARDS_DIR) -> str:
    """Hash of everything `npm ci` depends on: manifests, lockfile, patches and the Node version."""
    digest = hashlib.sha256()
    inputs = [project_dir / name for name in INSTALL_INPUTS]
    inputs += sorted((project_dir / "patches").glob("*.patch"))
    for path in inputs:
        if path.exists():
            digest.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    node = subprocess.run(["node", "--version"], capture_output=True, text=True, check=False)
    digest.update(node.stdout.strip().encode())
    return digest.hexdigest()


def ensure_node_modules(project_dir: Path = DASHBOARDS_DIR, timeout: float = INSTALL_TIMEOUT_SECONDS) -> bool:
    """Run `npm ci` (which applies the patches) unless node_modules already matches; True if it ran."""
    fingerprint = install_fingerprint(project_dir)
    stamp = project_dir / "node_modules" / INSTALL_STAMP
    if stamp.exists() and stamp.read_text().strip() == fingerprint:
        return False
    try:
        _run_step("npm ci", ["npm", "ci", *NPM_FLAGS], project_dir, timeout)
    except DashboardBuildError as error:
        # A registry mirror that lacks other platforms' optional binaries (rollup, duckdb) leaves
        # them out of the lockfile, and `npm ci` then refuses it as out of sync. `npm install`
        # still installs exactly the locked versions, and --no-save leaves the lockfile alone.
        if "EUSAGE" not in error.output:
            raise
        _run_step("npm install", ["npm", "install", "--no-save", *NPM_FLAGS], project_dir, timeout)
    stamp.write_text(fingerprint + "\n")
    return True


# --- data for the site ----------------------------------------------------------------------------

def _table_refs(sql: str, source_file: Path) -> set[tuple[str, str]]:
    """(schema, table) pairs a source query reads, from DuckDB's own parser (no binding needed)."""
    with duckdb.connect() as con:
        tree = json.loads(con.execute("select json_serialize_sql(?)", [sql]).fetchone()[0])
    if tree.get("error"):
        raise DashboardBuildError(f"{source_file}: cannot parse SQL: {tree.get('error_message')}")
    refs: set[tuple[str, str]] = set()

    def walk(node: object) -> None:
        if isinstance(node, dict):
            if node.get("type") == "BASE_TABLE" and "table_name" in node:
                refs.add((node.get("schema_name") or "", node["table_name"]))
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(tree)
    return refs


def tables_read_by_sources(snapshot: Path, source_dir: Path) -> list[tuple[str, str]]:
    """The snapshot tables/views the site's source queries read.

    Schema-qualified names must exist in the snapshot (a clear error names the file otherwise);
    unqualified names that match nothing are CTEs and are skipped.
    """
    with open_file(snapshot) as con:
        available = {
            (schema, name)
            for schema, name in con.execute(
                "select table_schema, table_name from information_schema.tables where table_catalog = current_database()"
            ).fetchall()
        }
    wanted: set[tuple[str, str]] = set()
    for source_file in sorted(source_dir.glob("*.sql")):
        for schema, table in _table_refs(source_file.read_text(), source_file):
            if schema:
                if (schema, table) not in available:
                    raise DashboardBuildError(
                        f"{source_file.name}: table {schema}.{table} is not in the snapshot {snapshot}"
                    )
                wanted.add((schema, table))
            else:
                wanted.update(key for key in available if key[1] == table)
    return sorted(wanted)


def write_dashboard_database(snapshot: Path, dest: Path, tables: list[tuple[str, str]]) -> None:
    """Copy ``tables`` (views become tables) into ``dest`` in storage Evidence's driver can read.

    A private copy also gives the build one consistent point in time even if `publish` swaps the
    snapshot meanwhile.
    """
    partial = dest.with_name(dest.name + ".partial")
    partial.unlink(missing_ok=True)
    with duckdb.connect(config=duckdb_config()) as con:
        con.execute(f"attach {quote_literal(str(snapshot))} as snapshot (read_only)")
        con.execute(f"attach {quote_literal(str(partial))} as site (storage_version {quote_literal(DASHBOARD_STORAGE_VERSION)})")
        for schema in sorted({schema for schema, _ in tables}):
            con.execute(f"create schema if not exists site.{quote_identifier(schema)}")
        for schema, table in tables:
            qualified = f"{quote_identifier(schema)}.{quote_identifier(table)}"
            con.execute(f"create table site.{qualified} as select * from snapshot.{qualified}")
        con.execute("detach site")
    os.replace(partial, dest)


# --- running Evidence -----------------------------------------------------------------------------

def _run_step(name: str, command: list[str], cwd: Path, timeout: float, log_path: Path | None = None) -> str:
    """Run one build step in its own process group and return its output; kill the group and
    explain on timeout. The output is also kept in ``log_path`` for a look after the fact."""
    env = dict(os.environ, NO_COLOR="1", FORCE_COLOR="0", VITE_CITYSTAT_CITY=city_name())
    if log_path is None:
        log_path = cwd / ".evidence" / "citystat-logs" / (name.replace(" ", "-") + ".log")
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with open(log_path, "w+") as log:
        process = subprocess.Popen(
            command, cwd=cwd, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
        try:
            returncode = process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
            output = _read(log)
            raise DashboardBuildError(
                f"{name} did not finish within {timeout:.0f} s in {cwd}. Stock Evidence hangs offline "
                "(DuckDB-Wasm downloading its Parquet extension): check that the install applied "
                f"dashboards/patches (delete dashboards/node_modules to force a reinstall).\n"
                f"Last output:\n{_tail(output)}",
                output,
            ) from None
        finally:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGKILL)
        if returncode != 0:
            output = _read(log)
            raise DashboardBuildError(
                f"{name} failed with exit code {returncode} in {cwd} (log: {log_path}).\n"
                f"Last output:\n{_tail(output)}",
                output,
            )
        return _read(log)


def city_name() -> str:
    """The city the pages are branded with: the inventory's `city.name` (read at build time by pages/+layout.svelte)."""
    from data_inventory import load_inventory

    return load_inventory().city.name


def _read(log) -> str:
    log.seek(0)
    return log.read()


def _tail(output: str, lines: int = 40) -> str:
    return "\n".join(output.splitlines()[-lines:])


@contextmanager
def _project_lock(project_dir: Path) -> Iterator[None]:
    """Evidence builds inside the project folder (.evidence/, build/): one build at a time."""
    with exclusive_lock(project_dir / ".citystat-build.lock"):
        yield


def built_pages(site_dir: Path) -> list[str]:
    """URL paths of the user pages in a built site (Evidence's own /settings and /explore excluded)."""
    pages = []
    for index in sorted(site_dir.rglob("index.html")):
        relative = index.parent.relative_to(site_dir).as_posix()
        if relative.split("/")[0] in {"api", "settings", "explore", "_app", "data"}:
            continue
        pages.append("/" if relative == "." else f"/{relative}/")
    return pages


def build_site(
    snapshot_path: str | os.PathLike,
    out_dir: str | os.PathLike,
    *,
    project_dir: Path = DASHBOARDS_DIR,
    sources_timeout: float = SOURCES_TIMEOUT_SECONDS,
    build_timeout: float = BUILD_TIMEOUT_SECONDS,
    force: bool = False,
) -> SiteBuild:
    """Build the static dashboard site from ``snapshot_path`` into ``out_dir`` (a new release swapped in whole).

    Unless ``force``, a site whose inputs (the tables it reads, the project, the Node install, the city name)
    equal those of its last finished build is kept as it is: see citystat/dashboard_inputs.py."""
    # `out` is a symlink to its current release (release_folders): resolve its folder, never the link itself
    snapshot, out = Path(snapshot_path).resolve(), Path(out_dir).absolute().parent.resolve() / Path(out_dir).name
    if not snapshot.is_file():
        raise DashboardBuildError(f"snapshot {snapshot} does not exist: run the pipeline and `citystat publish` first")
    project_dir = Path(project_dir).resolve()
    source_dir = project_dir / "sources" / SOURCE_NAME
    seconds: dict[str, float] = {}
    started = time.monotonic()
    with _project_lock(project_dir):
        step = time.monotonic()
        tables = tables_read_by_sources(snapshot, source_dir)
        inputs = dashboard_inputs.fingerprint(snapshot, tables, project_dir, install_fingerprint(project_dir), city_name())
        reasons = ["--force"] if force else dashboard_inputs.what_changed(out, inputs)
        seconds["fingerprint"] = time.monotonic() - step
        if not reasons:
            seconds["total"] = time.monotonic() - started
            return SiteBuild(site_dir=out, pages=built_pages(out), tables=[f"{schema}.{table}" for schema, table in tables],
                             seconds={name: round(value, 2) for name, value in seconds.items()})
        dashboard_inputs.forget(out)

        step = time.monotonic()
        ensure_node_modules(project_dir)
        seconds["install"] = time.monotonic() - step

        step = time.monotonic()
        write_dashboard_database(snapshot, source_dir / DASHBOARD_DATABASE, tables)
        seconds["data"] = time.monotonic() - step

        evidence = str(project_dir / "node_modules" / ".bin" / "evidence")
        step = time.monotonic()
        _run_step("evidence sources", [evidence, "sources", "--strict"], project_dir, sources_timeout)
        seconds["sources"] = time.monotonic() - step

        step = time.monotonic()
        # Evidence adds this build's content-hashed data folders to build/ without clearing it: start empty
        # so the site never carries an earlier snapshot's query results.
        shutil.rmtree(project_dir / "build", ignore_errors=True)
        output = _run_step("evidence build", [evidence, "build:strict"], project_dir, build_timeout)
        seconds["build"] = time.monotonic() - step
        # Evidence renders a failing page query as an error box and still exits 0.
        query_errors = sorted({line.strip() for line in output.splitlines() if QUERY_ERROR_MARKER in line})
        if query_errors:
            raise DashboardBuildError(
                "page queries failed while prerendering the dashboards:\n" + "\n".join(query_errors), output
            )

        with new_release(out) as staging:  # readers (and the server) see the old site or the new one, never half
            shutil.copytree(project_dir / "build", staging, dirs_exist_ok=True)
    dashboard_inputs.remember(out, inputs)
    seconds["total"] = time.monotonic() - started
    return SiteBuild(
        site_dir=out,
        pages=built_pages(out),
        tables=[f"{schema}.{table}" for schema, table in tables],
        seconds={name: round(value, 2) for name, value in seconds.items()},
        peak_child_memory_mb=round(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024, 1),
        rebuilt_because=reasons,
    )


# --- serving -----------------------------------------------------------------------------------------

def _site_app(site_dir: Path):
    from starlette.applications import Starlette
    from starlette.routing import Mount
    from starlette.staticfiles import StaticFiles

    if not (site_dir / "index.html").is_file():
        raise DashboardBuildError(f"{site_dir} is not a built dashboard site (no index.html): run `citystat dashboards build`")
    return Starlette(routes=[Mount("/", app=StaticFiles(directory=site_dir, html=True))])


DEFAULT_PORT = 3001  # 3000 is the Dagster UI's


def serve_site(site_dir: str | os.PathLike, host: str = "127.0.0.1", port: int = DEFAULT_PORT) -> None:
    """Serve a built site until interrupted (loopback by default: the snapshot is not for the internet)."""
    import uvicorn

    uvicorn.run(_site_app(Path(site_dir)), host=host, port=port, log_level="warning")


@contextmanager
def running_site(site_dir: str | os.PathLike, host: str = "127.0.0.1", port: int = 0) -> Iterator[str]:
    """Serve a built site in a background thread; yields its base URL. Port 0 picks a free port."""
    import uvicorn

    app = _site_app(Path(site_dir))
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise DashboardBuildError(f"the dashboard server on {host}:{sock.getsockname()[1]} did not start")
        time.sleep(0.05)
    try:
        yield f"http://{host}:{sock.getsockname()[1]}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()
