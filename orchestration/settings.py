"""Where CityStat reads the demo city and writes the warehouse, from the environment.

Relative paths resolve against the project root (the folder holding ``pyproject.toml`` beside this
package) so ``dagster dev``, ``citystat`` and tests agree whatever the working directory; outside a
source checkout they resolve against the working directory.
"""
from __future__ import annotations

import os
from pathlib import Path

DATA_DIR_ENV = "CITYSTAT_DATA_DIR"
WAREHOUSE_DIR_ENV = "CITYSTAT_WAREHOUSE_DIR"
DEFAULT_DATA_DIR = "var/demo_city"
DEFAULT_WAREHOUSE_DIR = "warehouse"


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
