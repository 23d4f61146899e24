"""The `quality/dataset_scores` asset: the per-dataset quality score (citystat.quality.scores) in the warehouse."""
# No `from __future__ import annotations`: Dagster reads the compute functions' annotations at runtime.
import dagster as dg
from dagster_duckdb import DuckDBResource

from citystat.ingestion import is_automated
from citystat.quality.scores import compute_scores, write_scores
from citystat.warehouse import WAREHOUSE_POOL
from data_inventory import Inventory, load_inventory
from orchestration.defs.quality.checks import staging_key
from orchestration.lib.resources import IngestionResource


def build_dataset_scores_asset(inventory: Inventory | None = None, staging_keys: list | None = None) -> dg.AssetsDefinition:
    inventory = inventory or load_inventory()
    deps = staging_keys if staging_keys is not None else [staging_key(ref) for ref in inventory.datasets() if is_automated(ref)]

    @dg.asset(
        key=["quality", "dataset_scores"], group_name="quality", deps=deps, pool=WAREHOUSE_POOL, kinds={"duckdb"},
        description="Quality score per inventoried dataset (GX pass rate, freshness, quarantine share, missing exports, "
                    "schema drift, reconciliation) for the inventory view: quality.dataset_scores.",
    )
    def dataset_scores(context: dg.AssetExecutionContext, warehouse: DuckDBResource, ingestion: IngestionResource) -> dg.MaterializeResult:
        with warehouse.get_connection() as con:
            frame = compute_scores(inventory, ingestion.landing(), ingestion.data_path(), con)
            write_scores(con, frame)
        worst = frame.sort_values("quality_score").head(5)
        return dg.MaterializeResult(metadata={
            "dagster/row_count": len(frame),
            "mean_score": float(frame["quality_score"].mean()) if len(frame) else 0.0,
            "lowest": dg.MetadataValue.md(worst[["dataset_id", "quality_score", "expectation_pass_rate", "quarantine_share",
                                                 "missing_exports", "drifted_files"]].to_markdown(index=False)),
        })

    return dataset_scores
