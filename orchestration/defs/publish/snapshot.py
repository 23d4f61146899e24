"""The `publish/snapshot` asset: the analysts' read-only snapshot (citystat.publish), swapped in atomically; on
PostgreSQL the published_* schemas (citystat.postgres_warehouse.publish), swapped in one transaction."""
import os

import dagster as dg

from citystat.postgres_warehouse import POSTGRES_URL_ENV, READER_ROLE_ENV, RUN_PUBLISHED_SCHEMAS, publish
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


def build_postgres_publish_asset(upstream: list):
    """`publish/snapshot` with the warehouse on PostgreSQL: published_marts, published_quality and published_metrics."""
    @dg.asset(
        key=["publish", "snapshot"],
        group_name="publish",
        pool=WAREHOUSE_POOL,
        deps=upstream,
        kinds={"postgres"},
        description="The analysts' read-only schemas published_marts, published_quality and published_metrics, "
                    "copied and swapped in one transaction (CITYSTAT_WAREHOUSE_POSTGRES_READER may read them).",
    )
    def publish_postgres_schemas(context) -> dg.MaterializeResult:
        counts = publish(os.environ[POSTGRES_URL_ENV].strip(), RUN_PUBLISHED_SCHEMAS,
                         reader=os.environ.get(READER_ROLE_ENV, "").strip() or None, progress=context.log.info)
        return dg.MaterializeResult(metadata={
            "tables": sum(counts.values()), **{f"tables_in_{schema}": n for schema, n in counts.items()}})

    return publish_postgres_schemas
