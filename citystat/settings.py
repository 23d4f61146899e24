"""Where CityStat reads its sources and writes the warehouse, the data's as-of date and the tools it calls: the one
place paths and the environment are resolved (the CLI, Dagster and dbt all ask here).

Relative paths resolve against the project root (the folder holding ``pyproject.toml`` beside this
package) so ``dagster dev``, ``citystat`` and tests agree whatever the working directory; outside a
source checkout they resolve against the working directory.
"""
from __future__ import annotations

import datetime as dt
import json
import os
import re
import shutil
import sys
from pathlib import Path

DATA_DIR_ENV = "CITYSTAT_DATA_DIR"
WAREHOUSE_DIR_ENV = "CITYSTAT_WAREHOUSE_DIR"
DEFAULT_DATA_DIR = "var/demo_city"
DEFAULT_WAREHOUSE_DIR = "warehouse"
AS_OF_ENV = "CITYSTAT_AS_OF"
# The resolved as-of date as dbt reads it (macro as_of_limit): an env var, so a new date keeps dbt's partial parse.
DBT_AS_OF_ENV = "CITYSTAT_DBT_AS_OF"
ASSET_DEADLINE_ENV = "CITYSTAT_ASSET_DEADLINE"  # seconds one extraction may take (orchestration/lib/resources.py)
AS_OF_FILE = "generation.json"  # a data folder may state its as-of date (the demo city writes it)
DUCKDB_MEMORY_ENV = "CITYSTAT_DUCKDB_MEMORY_LIMIT"  # dbt's profile reads the same variable
DEFAULT_DUCKDB_MEMORY = "2GB"
_MEMORY_SIZE = re.compile(r"[0-9]{1,6}(\.[0-9]{1,3})?\s?(KB|MB|GB|TB|KiB|MiB|GiB|TiB)", re.IGNORECASE)


def project_root() -> Path:
    root = Path(__file__).resolve().parent.parent
    return root if (root / "pyproject.toml").is_file() else Path.cwd()


def resolve_path(value: str | os.PathLike) -> Path:
    path = Path(value).expanduser()
    return path if path.is_absolute() else project_root() / path


def data_dir(override: str | os.PathLike | None = None) -> Path:
    """The demo city's data (``CITYSTAT_DATA_DIR``, default ``var/demo_city``)."""
    return resolve_path(override or os.environ.get(DATA_DIR_ENV) or DEFAULT_DATA_DIR)


def warehouse_dir(override: str | os.PathLike | None = None) -> Path:
    """The warehouse root (``CITYSTAT_WAREHOUSE_DIR``, default ``warehouse``)."""
    return resolve_path(override or os.environ.get(WAREHOUSE_DIR_ENV) or DEFAULT_WAREHOUSE_DIR)


def landing_dir(override: str | os.PathLike | None = None) -> Path:
    """Immutable raw batches: ``<warehouse>/landing``."""
    return warehouse_dir(override) / "landing"


def whole_number(env: str, default: int) -> int:
    """A count set by environment variable (threads, steps at once): a whole number of at least 1, else refused
    by name; unset or blank means ``default``."""
    value = os.environ.get(env, "").strip()
    if not value:
        return default
    if not value.isascii() or not value.isdigit() or int(value) < 1:
        raise ValueError(f"${env} must be a whole number of at least 1, got {value[:20]!r}")
    return int(value)


def duckdb_config() -> dict[str, str]:
    """The settings a run's DuckDB connections open with: a memory cap. DuckDB's own default is 80 % of RAM, so on a
    large city the build and the run worker each grew to 8-12 GB; under the cap DuckDB spills to disk instead.
    ``$CITYSTAT_DUCKDB_MEMORY_LIMIT`` (e.g. ``4GB``) changes it; anything but a size is refused by name."""
    value = os.environ.get(DUCKDB_MEMORY_ENV, "").strip() or DEFAULT_DUCKDB_MEMORY
    if not _MEMORY_SIZE.fullmatch(value):
        raise ValueError(f"${DUCKDB_MEMORY_ENV} must be a size such as 2GB or 512MB, got {value[:20]!r}")
    return {"memory_limit": value}


def as_of(data: str | os.PathLike | None = None) -> dt.date | None:
    """The data's "today", the same for every entry point (CLI, Dagster UI, schedules, sensors, dbt):
    ``$CITYSTAT_AS_OF`` (YYYY-MM-DD) when set, else the ``as_of`` the data folder states in ``generation.json``
    (the demo city), else None: live systems, whose today is the wall clock."""
    text = os.environ.get(AS_OF_ENV, "").strip()
    source = AS_OF_ENV
    if not text:
        path = data_dir(data) / AS_OF_FILE
        if not path.is_file():
            return None
        try:
            text = str(json.loads(path.read_text(encoding="utf-8")).get("as_of") or "")
        except (OSError, ValueError):
            raise ValueError(f"{path}: not readable JSON with an as_of date") from None
        source = str(path)
        if not text:
            return None
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise ValueError(f"{source}: as_of {text[:40]!r} is not a date (YYYY-MM-DD)") from None


INVENTORY_ENV = "CITYSTAT_INVENTORY"  # data_inventory.loader reads the same variable


def shipped_dbt_project_dir() -> Path:
    return project_root() / "dbt_project"


def dbt_project_dir() -> Path:
    """The dbt project dbt and Dagster run: the shipped ``dbt_project/``, or, when ``$CITYSTAT_INVENTORY`` names
    another city's inventory, that city's copy ``<warehouse>/dbt_project``: the shipped project with the sources
    and entity models generated from the city's inventory (``citystat generate`` writes it), so the shipped files
    stay those of the shipped inventory."""
    chosen = os.environ.get(INVENTORY_ENV, "").strip()
    shipped = project_root() / "data_inventory" / "inventory.yaml"
    if not chosen or resolve_path(chosen).resolve() == shipped.resolve():
        return shipped_dbt_project_dir()
    return warehouse_dir() / "dbt_project"


def another_city() -> bool:
    """``$CITYSTAT_INVENTORY`` names another city's inventory than the shipped (demo) one."""
    return dbt_project_dir() != shipped_dbt_project_dir()


def dbt_executable() -> str:
    """The dbt next to this interpreter (the venv's), so an unactivated venv (CI, dagster dev) still finds it."""
    beside = Path(sys.executable).with_name("dbt")
    return str(beside) if beside.exists() else (shutil.which("dbt") or "dbt")


WORKBENCH_DB_ENV = "CITYSTAT_WORKBENCH_DB"
WORKBENCH_DB_DEFAULT = "performance_office/workbench.sqlite3"  # the inventory's default location, in the data folder


def workbench_db_path() -> Path:
    """The performance office's workbench database (``CITYSTAT_WORKBENCH_DB``, default
    ``<data>/performance_office/workbench.sqlite3``): the location the inventory gives the ``perf_workbench``
    system, so the web app writes exactly where the pipeline reads."""
    value = os.environ.get(WORKBENCH_DB_ENV)
    return resolve_path(value) if value else data_dir() / WORKBENCH_DB_DEFAULT
