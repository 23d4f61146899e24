"""The pipeline's stage jobs, in run order (`citystat run` executes them; the UI lists them).

Ingestion is unpartitioned and the large dbt models are daily-partitioned; Dagster cannot mix the two in
one run, so each partitioning gets its own job and the stages hand over through the warehouse.
"""
from __future__ import annotations

import dagster as dg

from orchestration.schedules import ingest_all_job


def build_stage_jobs(dbt_upstream, dbt_daily, dbt_downstream) -> list:
    return [
        ingest_all_job,
        dg.define_asset_job("transform_upstream", selection=dg.AssetSelection.assets(dbt_upstream),
                            description="dbt: seeds, reference staging and dimensions."),
        dg.define_asset_job("transform_daily", selection=dg.AssetSelection.assets(dbt_daily),
                            description="dbt: the daily-partitioned incremental models (pass a partition range)."),
        dg.define_asset_job("transform_downstream", selection=dg.AssetSelection.assets(dbt_downstream),
                            description="dbt: marts and kpi_values on the daily facts."),
        dg.define_asset_job("metrics_all", selection=dg.AssetSelection.key_prefixes(["metrics"], ["quality"], ["inventory"]),
                            description="KPI status, flags, goals, contracts, budget, quality scores, inventory view."),
        dg.define_asset_job("publish_all", selection=dg.AssetSelection.key_prefixes(["publish"], ["dashboards"]),
                            description="Publish the analysts' snapshot and build the dashboards."),
    ]
