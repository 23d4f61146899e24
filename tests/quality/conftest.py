"""Scale-0.1 demo cities (the default defective one and a --clean one), landed by the real connectors and
built by the real dbt project once per session, plus what every quality gate flags on each.

tests/dbt builds its own defective city the same way; pytest cannot share session fixtures across sibling
folders without a root conftest, so this folder keeps its own (the clean city is only needed here).
"""
from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import duckdb
import pytest

from data_inventory import load_inventory
from demo_city.generator import generate
from citystat.quality.detection import Flags, collect_flags
from demo_city.measure import BuiltWarehouse, build_warehouse

AS_OF = dt.date(2026, 10, 31)


@pytest.fixture(scope="session")
def inventory():
    return load_inventory()


def _city(tmp_path_factory, clean: bool) -> Path:
    out = tmp_path_factory.mktemp("clean_city" if clean else "defective_city") / "city"
    generate(out, seed=42, scale=0.1, as_of=AS_OF, clean=clean)
    return out


@pytest.fixture(scope="session")
def defective_city(tmp_path_factory) -> Path:
    """Read-only: copy before changing (see ``city_copy``)."""
    return _city(tmp_path_factory, clean=False)


@pytest.fixture(scope="session")
def clean_city(tmp_path_factory) -> Path:
    return _city(tmp_path_factory, clean=True)


@pytest.fixture(scope="session")
def defective_built(defective_city, tmp_path_factory, inventory) -> BuiltWarehouse:
    return build_warehouse(defective_city, tmp_path_factory.mktemp("defective_warehouse"), inventory)


@pytest.fixture(scope="session")
def clean_built(clean_city, tmp_path_factory, inventory) -> BuiltWarehouse:
    return build_warehouse(clean_city, tmp_path_factory.mktemp("clean_warehouse"), inventory)


def _flags(built: BuiltWarehouse, inventory, docs: Path) -> Flags:
    with duckdb.connect(str(built.work_db), read_only=True) as con:
        return collect_flags(inventory, built.landing, built.city, con, docs_dir=docs)


@pytest.fixture(scope="session")
def defective_flags(defective_built, inventory, tmp_path_factory) -> Flags:
    return _flags(defective_built, inventory, tmp_path_factory.mktemp("docs_defective"))


@pytest.fixture(scope="session")
def clean_flags(clean_built, inventory, tmp_path_factory) -> Flags:
    return _flags(clean_built, inventory, tmp_path_factory.mktemp("docs_clean"))


def copy_city(city: Path, tmp_path: Path) -> Path:
    copy = tmp_path / "city"
    shutil.copytree(city, copy)
    return copy
