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
    description="The citywide data inventory, its coverage, load history and KPI lineage as `inventory.*` tables.",
    kinds={"duckdb"},
)
def inventory_catalog(context: dg.AssetExecutionContext, warehouse: DuckDBResource) -> dg.MaterializeResult:
    with warehouse.get_connection() as con:
        tables = write_inventory_tables(con)
    return dg.MaterializeResult(metadata=summary(tables))


INVENTORY_ASSETS = [inventory_catalog]
