"""The `quality/dataset_scores` asset: the per-dataset quality score (citystat.quality.scores) in the warehouse."""
# No `from __future__ import annotations`: Dagster reads the compute functions' annotations at runtime.
import dagster as dg
from dagster_duckdb import DuckDBResource

from citystat.ingestion import is_automated
from citystat.quality.scores import compute_scores, previous_reconciliation, write_scores
from citystat.warehouse import WAREHOUSE_POOL
from data_inventory import Inventory, load_inventory
from orchestration.defs.quality.checks import staging_key
from orchestration.lib.asset_inputs import AssetInputs
from orchestration.lib.resources import IngestionResource


def build_dataset_scores_asset(inventory: Inventory | None = None, staging_keys: list | None = None) -> dg.AssetsDefinition:
    inventory = inventory or load_inventory()
    refs = [ref for ref in inventory.datasets() if is_automated(ref)]
    deps = staging_keys if staging_keys is not None else [staging_key(ref) for ref in refs]

    @dg.asset(
        key=["quality", "dataset_scores"], group_name="quality", deps=deps, pool=WAREHOUSE_POOL, kinds={"duckdb"},
        description="Quality score per inventoried dataset (GX pass rate, freshness, quarantine share, missing exports, "
                    "schema drift, reconciliation) for the inventory view: quality.dataset_scores.",
    )
    def dataset_scores(context: dg.AssetExecutionContext, warehouse: DuckDBResource, ingestion: IngestionResource) -> dg.MaterializeResult:
        # Freshness and missing exports move with the clock, so every row is computed again; reconciliation (most of
        # the time at scale) is taken from the last scores for a dataset whose staging was not rebuilt since.
        inputs = AssetInputs(context, warehouse)
        kept = inputs.unchanged_dependencies()
        inputs.forget()
        with warehouse.get_connection() as con:
            reused = previous_reconciliation(con, [ref.name for ref in refs if staging_key(ref) in kept])
            frame = compute_scores(inventory, ingestion.landing(), ingestion.data_path(), con, reconciled=reused)
            write_scores(con, frame)
        inputs.remember()
        worst = frame.sort_values("quality_score").head(5)
        return dg.MaterializeResult(metadata={
            "reconciliation_reused": dg.MetadataValue.json(sorted(reused)),
            "dagster/row_count": len(frame),
            "mean_score": float(frame["quality_score"].mean()) if len(frame) else 0.0,
            "lowest": dg.MetadataValue.md(worst[["dataset_id", "quality_score", "expectation_pass_rate", "quarantine_share",
                                                 "missing_exports", "drifted_files"]].to_markdown(index=False)),
        })

    return dataset_scores
