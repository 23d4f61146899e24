"""Ingestion, generated from the inventory: a `source/...` spec per dataset, a `raw/...` landing asset per
automated dataset, the file-drop sensor and the daily schedule for the APIs."""
import dagster as dg

from orchestration.defs.ingestion.assets import build_ingestion
from orchestration.defs.ingestion.sensors import build_file_drop_sensor
from orchestration.defs.ingestion.schedules import build_daily_ingestion
from orchestration.lib.resources import IngestionResource


def build_defs() -> dg.Definitions:
    ingestion = build_ingestion()
    return dg.Definitions(
        assets=[*ingestion.source_specs, *ingestion.raw_assets],
        sensors=[build_file_drop_sensor(ingestion.file_drop_refs)],
        schedules=[build_daily_ingestion(ingestion)],
        resources={"ingestion": IngestionResource()},
    )
