"""dbt's partial-parse state kept per warehouse, so a daily build re-parses only the files that changed.

dagster-dbt gives each invocation a fresh target folder and seeds it with the project's
``target/partial_parse.msgpack`` from `dbt parse` time. dbt throws that state away and parses the whole project
(~15 s) when an env var the profile reads differs from parse time (CITYSTAT_WORK_DB: each warehouse has its own)
or the target differs (PostgreSQL). So the state the last build of *this* warehouse left is kept beside its work
database and seeds the next build. It is only a cache: dbt checks it itself (version, vars, profile, env vars,
each file's checksum) and parses afresh whatever it cannot reuse.
"""
from __future__ import annotations

import shutil
from pathlib import Path

from citystat.release_folders import write_whole
from citystat.warehouse import work_db_path

FILE_NAME = "partial_parse.msgpack"  # dbt's name for it in a target folder
SUFFIX = ".dbt-partial-parse.msgpack"


def cache_path() -> Path:
    work = work_db_path()
    return work.with_name(work.name + SUFFIX)


def seed(target_path: Path) -> None:
    """Before a build: the warehouse's last state into the invocation's target folder (dagster-dbt then leaves it)."""
    cached = cache_path()
    if cached.exists():
        target_path.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(cached, target_path / FILE_NAME)


def keep(target_path: Path) -> None:
    """After a build (failed or not: the state is written once parsing is done): keep what dbt wrote.
    Written aside and renamed (write_whole), so a killed copy never leaves half a file."""
    written = target_path / FILE_NAME
    if not written.exists() or not cache_path().parent.is_dir():
        return
    write_whole(cache_path(), written.read_bytes())
