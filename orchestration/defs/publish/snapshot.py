"""The `publish/snapshot` asset: the analysts' read-only snapshot (citystat.publish), swapped in atomically; with the
warehouse on PostgreSQL, the published_* schemas (citystat.postgres_warehouse.publish), swapped in one transaction."""
import os

import dagster as dg

from citystat.postgres_warehouse import POSTGRES_URL_ENV, READER_ROLE_ENV, RUN_PUBLISHED_SCHEMAS, configured_url, publish
from citystat.publish import publish_snapshot
from citystat.warehouse import WAREHOUSE_POOL, snapshot_path, work_db_path

DUCKDB_DESCRIPTION = "The analysts' read-only snapshot (schemas marts, metrics, inventory, quality), swapped in atomically."
POSTGRES_DESCRIPTION = ("The analysts' read-only schemas published_marts, published_quality and published_metrics, "
                        "copied and swapped in one transaction (CITYSTAT_WAREHOUSE_POSTGRES_READER may read them).")


def build_publish_asset(upstream: list):
    """The `publish/snapshot` asset, downstream of every table it publishes (so lineage shows what analysts get)."""
    on_postgres = configured_url() is not None

    @dg.asset(
        key=["publish", "snapshot"],
        group_name="publish",
        pool=WAREHOUSE_POOL,
        deps=upstream,
        kinds={"postgres" if on_postgres else "duckdb"},
        description=POSTGRES_DESCRIPTION if on_postgres else DUCKDB_DESCRIPTION,
    )
    def publish_snapshot_asset(context) -> dg.MaterializeResult:
        if on_postgres:
            return _publish_postgres(context)
        tables = publish_snapshot(work_db_path(), snapshot_path())
        by_schema: dict[str, int] = {}
        for table in tables:
            by_schema[table.schema] = by_schema.get(table.schema, 0) + 1
        rewritten = sum(t.copied for t in tables)
        context.log.info(f"published {len(tables)} tables to {snapshot_path()} ({rewritten} rewritten, the others unchanged)")
        return dg.MaterializeResult(metadata={
            "path": dg.MetadataValue.path(str(snapshot_path())),
            "tables": len(tables),
            "tables_rewritten": rewritten,
            **{f"tables_in_{schema}": n for schema, n in sorted(by_schema.items())},
            "empty_tables": dg.MetadataValue.text(", ".join(f"{t.schema}.{t.name}" for t in tables if t.rows == 0) or "none"),
        })

    return publish_snapshot_asset


def _publish_postgres(context) -> dg.MaterializeResult:
    counts = publish(os.environ[POSTGRES_URL_ENV].strip(), RUN_PUBLISHED_SCHEMAS,
                     reader=os.environ.get(READER_ROLE_ENV, "").strip() or None, progress=context.log.info)
    return dg.MaterializeResult(metadata={
        "tables": sum(counts.values()), **{f"tables_in_{schema}": n for schema, n in counts.items()}})
