import pytest

from kpi_helpers import DEMO_AS_OF, DemoWarehouse, dbt_helpers, materialize_metrics, swing_month
from citystat.kpi.registry import load_registry

# Every mart the KPI metrics and the semantic layer read (with their upstream), seeds included; no dbt tests.
KPI_MODELS = ["+kpi_values", "+fct_kpi_submissions", "+stg_perf_office__strategic_goals",
              "+quarantine_perf_office__kpi_submissions", "+fct_service_requests", "+fct_code_cases", "+dim_department",
              "metricflow_time_spine"]


@pytest.fixture(scope="session")
def registry():
    return load_registry()


@pytest.fixture(scope="session")
def kpi_demo_warehouse(tmp_path_factory) -> DemoWarehouse:
    """A scale-0.1 demo city landed by the real ingestion and built by the real dbt project (KPI marts only)."""
    from demo_city.generator import generate

    helpers = dbt_helpers()
    root = tmp_path_factory.mktemp("kpi_city")
    city = root / "city"
    generate(city, seed=42, scale=0.1, as_of=DEMO_AS_OF, clean=False)
    warehouse = helpers.Warehouse(landing=root / "landing", db=root / "work.duckdb", target=root / "target")
    helpers.land(city, warehouse.landing)
    helpers.dbt(warehouse, "build", "--select", *KPI_MODELS,
                "--exclude-resource-type", "test", "--exclude-resource-type", "unit_test")
    return DemoWarehouse(city=city, db=warehouse.db, target=warehouse.target, warehouse_dir=root / "warehouse")


@pytest.fixture(scope="session")
def metrics_runs(kpi_demo_warehouse) -> dict:
    """Two runs of the metrics assets on the demo warehouse; between them the office adds a row to its action CSV."""
    import duckdb

    first = materialize_metrics(kpi_demo_warehouse)
    with duckdb.connect(str(kpi_demo_warehouse.db), read_only=True) as con:
        flags_after_first = con.execute("SELECT * FROM metrics.flags ORDER BY flag_id").df()
    with (kpi_demo_warehouse.warehouse_dir / "flag_actions.csv").open("a") as handle:
        handle.write(f"lib_visits:{swing_month(kpi_demo_warehouse)}:worsened,,,,2025-03-12 09:30,Library director,"
                     "main branch reopened after the HVAC repair; no further action,acknowledged,\n")
    second = materialize_metrics(kpi_demo_warehouse)
    return {"first": first, "second": second, "flags_after_first": flags_after_first}
