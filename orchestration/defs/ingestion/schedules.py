"""The daily schedule: every morning, land what is new from the sources CityStat pulls (APIs and databases).
Drop folders are watched by the file-drop sensor; everything after landing follows by automation."""
import dagster as dg

from citystat.ingestion import is_file_drop

CITY_TIMEZONE = "America/New_York"


def build_daily_ingestion(ingestion) -> dg.ScheduleDefinition:
    pulled = [key for ref, asset in zip(ingestion.automated_refs, ingestion.raw_assets) if not is_file_drop(ref)
              for key in asset.keys]
    return dg.ScheduleDefinition(
        name="daily_ingestion",
        target=dg.AssetSelection.assets(*pulled),
        cron_schedule="0 5 * * *",  # before the working day, after the overnight exports
        execution_timezone=CITY_TIMEZONE,
        default_status=dg.DefaultScheduleStatus.RUNNING,
        description="Every morning at 05:00 city time: land what is new from every API and database source.",
    )
