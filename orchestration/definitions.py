"""The Dagster code location (``dagster dev`` from the repo root loads ``defs``).

A thin assembly: the inventory-driven ingestion (source specs, raw assets, file-drop sensors, the
daily schedule) plus the warehouse assets built on it. Importing reads the inventory YAML only:
no dbt parse, no network, no data files.
"""
from __future__ import annotations

import dagster as dg

from orchestration.ingestion import build_ingestion
from orchestration.ingestion_resource import IngestionResource
from orchestration.schedules import daily_ingestion_schedule, ingest_all_job
from orchestration.sensors import build_file_drop_sensors

INGESTION = build_ingestion()
INGESTION_ASSETS = [*INGESTION.source_specs, *INGESTION.raw_assets]

# Warehouse layers built on the raw landing (dbt models, metrics): add them here.
WAREHOUSE_ASSETS: list = []

defs = dg.Definitions(
    assets=[*INGESTION_ASSETS, *WAREHOUSE_ASSETS],
    jobs=[ingest_all_job],
    schedules=[daily_ingestion_schedule],
    sensors=build_file_drop_sensors(INGESTION.file_drop_refs),
    resources={"ingestion": IngestionResource()},
)
