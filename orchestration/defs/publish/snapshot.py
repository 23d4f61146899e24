"""The `publish/snapshot` asset: the analysts' read-only snapshot (citystat.publish), swapped in atomically."""
import dagster as dg

from citystat.publish import publish_snapshot
from citystat.warehouse import WAREHOUSE_POOL, snapshot_path, work_db_path


def build_publish_asset(upstream: list):
    """The `publish/snapshot` asset, downstream of every table it publishes (so lineage shows what analysts get)."""
    @dg.asset(
        key=["publish", "snapshot"],
        group_name="publish",
        pool=WAREHOUSE_POOL,
        deps=upstream,
        kinds={"duckdb"},
        description="The analysts' read-only snapshot (schemas marts, metrics, inventory, quality), swapped in atomically.",
    )
    def publish_snapshot_asset(context) -> dg.MaterializeResult:
        tables = publish_snapshot(work_db_path(), snapshot_path())
        by_schema: dict[str, int] = {}
        for table in tables:
            by_schema[table.schema] = by_schema.get(table.schema, 0) + 1
        context.log.info(f"published {len(tables)} tables to {snapshot_path()}")
        return dg.MaterializeResult(metadata={
            "path": dg.MetadataValue.path(str(snapshot_path())),
            "tables": len(tables),
            **{f"tables_in_{schema}": n for schema, n in sorted(by_schema.items())},
            "empty_tables": dg.MetadataValue.text(", ".join(f"{t.schema}.{t.name}" for t in tables if t.rows == 0) or "none"),
        })

    return publish_snapshot_asset
