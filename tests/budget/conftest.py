"""The budget tests' demo city: scale 0.1, landed by the real ingestion and built by the real dbt project (only the
marts the budget metrics read), shared by the demo-city tests. Hand-computed fixtures live in the test files."""
from __future__ import annotations

import datetime as dt
import importlib.util
import sys
from pathlib import Path

import pytest

from demo_city.generator import generate

AS_OF = dt.date(2026, 10, 31)
BUDGET_MARTS = ["fct_programme_site_outcomes", "fct_budget_lines", "fct_expenditures", "fct_positions",
                "fct_peer_city_spending", "dim_program", "kpi_values", "fct_kpi_submissions"]


def _dbt_helpers():
    """tests/dbt/dbt_helpers.py: landing a city with the real connectors and running the real dbt (reused, not copied)."""
    path = Path(__file__).resolve().parents[1] / "dbt" / "dbt_helpers.py"
    spec = importlib.util.spec_from_file_location("budget_dbt_helpers", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="session")
def demo_warehouse(tmp_path_factory) -> Path:
    """The working warehouse of a scale-0.1 demo city with the marts the budget metrics read (no dbt tests run)."""
    helpers = _dbt_helpers()
    root = tmp_path_factory.mktemp("budget_city")
    city = root / "city"
    generate(city, seed=42, scale=0.1, as_of=AS_OF, clean=False)
    warehouse = helpers.Warehouse(landing=root / "landing", db=root / "work.duckdb", target=root / "target")
    helpers.land(city, warehouse.landing)
    helpers.dbt(warehouse, "build", "--select", *(f"+{m}" for m in BUDGET_MARTS),
                "--exclude-resource-type", "test", "--exclude-resource-type", "unit_test")
    return warehouse.db
