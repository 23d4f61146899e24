"""The Dagster code location (``dagster dev`` from the repo root loads ``defs``).

A thin assembly: the inventory-driven ingestion (source specs, raw assets, file-drop sensors, the
daily schedule), the dbt project, the metrics assets built on the marts, and publish. Importing reads
the inventory YAML and the dbt manifest only: no dbt parse (unless the manifest is stale), no network,
no data files.
"""
from __future__ import annotations

import dagster as dg

from orchestration.budget.assets import BUDGET_ASSETS
from orchestration.contracts.assets import CONTRACT_ASSETS
from orchestration.dashboards_assets import DASHBOARD_ASSETS
from orchestration.dbt_assets import DBT_ASSETS, DBT_RESOURCES
from orchestration.ingestion import build_ingestion
from orchestration.ingestion_resource import IngestionResource
from orchestration.inventory_assets import INVENTORY_ASSETS
from orchestration.jobs import build_stage_jobs
from orchestration.kpi.assets import METRICS_ASSETS
from orchestration.publish import build_publish_asset
from orchestration.quality import build_quality
from orchestration.schedules import daily_ingestion_schedule
from orchestration.sensors import build_file_drop_sensors
from orchestration.warehouse import warehouse_resource

INGESTION = build_ingestion()
INGESTION_ASSETS = [*INGESTION.source_specs, *INGESTION.raw_assets]
QUALITY = build_quality(INGESTION.inventory)  # GX suites as checks, reconciliation, source health, scores

# Warehouse layers built on the raw landing (dbt models, metrics): add them here.
WAREHOUSE_ASSETS: list = [*DBT_ASSETS, *INVENTORY_ASSETS, *METRICS_ASSETS, *CONTRACT_ASSETS, *BUDGET_ASSETS, *QUALITY.assets]
WAREHOUSE_CHECKS: list = [*QUALITY.checks]

PUBLISH_ASSET = build_publish_asset(
    [key for asset in WAREHOUSE_ASSETS for key in asset.keys if key.path[0] in ("marts", "metrics", "inventory", "quality")]
)

defs = dg.Definitions(
    assets=[*INGESTION_ASSETS, *WAREHOUSE_ASSETS, PUBLISH_ASSET, *DASHBOARD_ASSETS],
    asset_checks=WAREHOUSE_CHECKS,
    jobs=[*build_stage_jobs(*DBT_ASSETS), *QUALITY.jobs],
    schedules=[daily_ingestion_schedule, *QUALITY.schedules],
    sensors=build_file_drop_sensors(INGESTION.file_drop_refs),
    resources={"ingestion": IngestionResource(), "warehouse": warehouse_resource(), **DBT_RESOURCES},
)
