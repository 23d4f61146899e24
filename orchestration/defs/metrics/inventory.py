"""The `inventory/catalog` asset: the citywide data inventory as `inventory.*` tables (citystat.inventory_tables)."""
# No `from __future__ import annotations`: Dagster reads the compute functions' annotations at runtime.
import dagster as dg
from dagster_duckdb import DuckDBResource

from citystat.inventory_tables import summary, write_inventory_tables
from citystat.warehouse import WAREHOUSE_POOL


@dg.asset(
    key=["inventory", "catalog"],
    group_name="inventory",
    pool=WAREHOUSE_POOL,
    # After this run's loads (the quality scores come after every automated dataset's staging): else the load
    # history, "last load" and freshness are one run behind, and a first run says "never loaded" for everything.
    deps=[dg.AssetKey(["quality", "dataset_scores"])],
    description="The citywide data inventory, its coverage, load history and KPI lineage as `inventory.*` tables.",
    kinds={"duckdb"},
)
def inventory_catalog(context: dg.AssetExecutionContext, warehouse: DuckDBResource) -> dg.MaterializeResult:
    with warehouse.get_connection() as con:
        tables = write_inventory_tables(con)
    return dg.MaterializeResult(metadata=summary(tables))


INVENTORY_ASSETS = [inventory_catalog]
