"""The `inventory/catalog` asset: the citywide data inventory as `inventory.*` tables (citystat.inventory_tables)."""
# No `from __future__ import annotations`: Dagster reads the compute functions' annotations at runtime.
import dagster as dg
from dagster_duckdb import DuckDBResource

from citystat.inventory_tables import TABLE_DOCS, inventory_tables
from citystat.warehouse import WAREHOUSE_POOL


@dg.asset(
    key=["inventory", "catalog"],
    group_name="inventory",
    pool=WAREHOUSE_POOL,
    description="The citywide data inventory, its coverage, load history and KPI lineage as `inventory.*` tables.",
    kinds={"duckdb"},
)
def inventory_catalog(context: dg.AssetExecutionContext, warehouse: DuckDBResource) -> dg.MaterializeResult:
    tables = inventory_tables()
    with warehouse.get_connection() as con:
        con.execute("CREATE SCHEMA IF NOT EXISTS inventory")
        for name, frame in tables.items():
            con.register("frame", frame)
            con.execute(f"CREATE OR REPLACE TABLE inventory.{name} AS SELECT * FROM frame")
            con.unregister("frame")
            comment = TABLE_DOCS[name].replace("'", "''")  # COMMENT ON takes no parameters; "registry's"
            con.execute(f"COMMENT ON TABLE inventory.{name} IS '{comment}'")
    datasets = tables["datasets"]
    return dg.MaterializeResult(metadata={
        "departments": len(tables["departments"]),
        "datasets": len(datasets),
        "automated": int((datasets["update_method"] == "automated").sum()),
        "stale_or_never_loaded": int(datasets["freshness"].isin(["stale", "never loaded"]).sum()),
    })


INVENTORY_ASSETS = [inventory_catalog]
