"""One scale-0.1 demo city, landed by the real ingestion and built by the real dbt project, shared by the dbt tests."""
from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from demo_city.generator import generate

from dbt_helpers import Warehouse, dbt, land

AS_OF = dt.date(2026, 10, 31)


@pytest.fixture(scope="session")
def dbt_city(tmp_path_factory) -> Path:
    """The generated demo city (read-only for tests: copy it before advancing)."""
    out = tmp_path_factory.mktemp("dbt_city") / "city"
    generate(out, seed=42, scale=0.1, as_of=AS_OF, clean=False)
    return out


@pytest.fixture(scope="session")
def built(dbt_city, tmp_path_factory) -> Warehouse:
    """The city landed and built with `dbt build` (models, seeds, data tests and unit tests)."""
    root = tmp_path_factory.mktemp("dbt_warehouse")
    warehouse = Warehouse(landing=root / "landing", db=root / "work.duckdb", target=root / "target")
    land(dbt_city, warehouse.landing)
    dbt(warehouse, "build")
    return warehouse


@pytest.fixture(scope="session")
def defects(dbt_city) -> dict[tuple[str, str], set[str]]:
    """The generator's ground truth: {(dataset, defect class): record ids}."""
    manifest = json.loads((dbt_city / "defects.json").read_text())["defects"]
    return {(d["dataset"], d["defect_class"]): set(d["record_ids"]) for d in manifest}
