"""Quality gates as Dagster asset checks (GX suites on raw batches and key marts, reconciliation on staging,
source health), the per-dataset quality score, and the morning source-health job and schedule."""
import dagster as dg

from data_inventory import load_inventory
from orchestration.defs.quality.checks import build_quality_checks, source_health_job
from orchestration.defs.quality.scores import build_dataset_scores_asset
from orchestration.lib.automation import automated


def build_defs() -> dg.Definitions:
    inventory = load_inventory()
    checks = build_quality_checks(inventory)
    job = source_health_job(checks)
    return dg.Definitions(
        assets=automated([build_dataset_scores_asset(inventory)]),
        asset_checks=checks,
        jobs=[job],
        schedules=[dg.ScheduleDefinition(
            name="daily_source_health", job=job, cron_schedule="45 5 * * *",
            execution_timezone="America/New_York", default_status=dg.DefaultScheduleStatus.RUNNING,
            description="Every morning after ingestion: schema drift, missing exports and freshness of every source.",
        )],
    )
