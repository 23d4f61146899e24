"""The daily schedule: land every inventoried source once a day (drops are also picked up by sensors)."""
from __future__ import annotations

import dagster as dg

INGESTION_SELECTION = dg.AssetSelection.key_prefixes(["raw"])

ingest_all_job = dg.define_asset_job(
    "ingest_all",
    selection=INGESTION_SELECTION,
    description="Land what is new from every automated source in the inventory.",
)

daily_ingestion_schedule = dg.ScheduleDefinition(
    name="daily_ingestion",
    job=ingest_all_job,
    cron_schedule="0 5 * * *",  # before the working day, after the overnight exports
    execution_timezone="America/New_York",
    default_status=dg.DefaultScheduleStatus.RUNNING,
    description="Every morning at 05:00 city time: every raw asset.",
)
