"""The contract tests' demo city: scale 0.2, the procurement, paving, 311 and budget datasets landed by the real
connectors (APIs on loopback), the marts built by the real dbt project, then the contract assets materialized by
Dagster into that warehouse. Shared by the demo-city tests; hand-computed fixtures live in builders.py."""
from __future__ import annotations

import datetime as dt
import importlib.util
import sys
from dataclasses import dataclass
from pathlib import Path

import dagster as dg
import pytest
from dagster_duckdb import DuckDBResource

from data_inventory import load_inventory
from demo_city.generator import generate
from demo_city.servers import serve_in_thread
from citystat.connectors import build_connector
from orchestration.defs.metrics.contracts import CONTRACT_ASSETS
from citystat.contracts.inputs import MARTS
from citystat.ingestion import source_spec
from citystat.landing import Landing

AS_OF = dt.date(2026, 10, 31)
SCALE = 0.2
# what the contract marts are built from (contracts validate their programme against the budget)
DATASETS = {("proc_portal", "vendors"), ("proc_portal", "contracts"), ("proc_portal", "contract_milestones"),
            ("pw_paving", "paving_reports"), ("crm311", "services"), ("crm311", "service_requests"), ("fin_erp", "budget")}


def _dbt_helpers():
    """tests/dbt/dbt_helpers.py: running the real dbt project on a warehouse (reused, not copied)."""
    path = Path(__file__).resolve().parents[1] / "dbt" / "dbt_helpers.py"
    spec = importlib.util.spec_from_file_location("contracts_dbt_helpers", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up
    spec.loader.exec_module(module)
    return module


@dataclass(frozen=True)
class ContractCity:
    city: Path
    db: Path  # the working warehouse with the marts and the metrics.contract_* tables


@pytest.fixture(scope="session")
def contract_city(tmp_path_factory) -> ContractCity:
    helpers = _dbt_helpers()
    root = tmp_path_factory.mktemp("contract_city")
    city = root / "city"
    generate(city, seed=42, scale=SCALE, as_of=AS_OF, clean=False)
    warehouse = helpers.Warehouse(landing=root / "landing", db=root / "work.duckdb", target=root / "target")
    landing = Landing(warehouse.landing)
    with serve_in_thread(city) as server, pytest.MonkeyPatch.context() as env:
        env.setenv("CITYSTAT_OPEN311_URL", f"{server.url}/open311/v2")
        env.setenv("CITYSTAT_SODA_URL", server.url)
        for ref in load_inventory().datasets():
            if ref.key in DATASETS:
                landing.load(build_connector(source_spec(ref, city), helpers.FAST))
    helpers.dbt(warehouse, "build", "--select", *(f"+{mart}" for mart in MARTS.values()),
                "--exclude-resource-type", "test", "--exclude-resource-type", "unit_test")
    (root / "dagster").mkdir()
    with dg.instance_for_test(temp_dir=str(root / "dagster")) as instance:
        result = dg.materialize(CONTRACT_ASSETS, resources={"warehouse": DuckDBResource(database=str(warehouse.db))},
                                instance=instance)
        assert result.success
    return ContractCity(city=city, db=warehouse.db)
