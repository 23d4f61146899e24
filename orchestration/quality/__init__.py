"""Quality gates: GX suites as Dagster asset checks, reconciliation, drift, missing exports, freshness and the
per-dataset quality score.

``build_quality(inventory)`` gives the Dagster definitions (``definitions.py`` passes the inventory it already
loaded); ``QUALITY_CHECKS`` / ``QUALITY_ASSETS`` / ``QUALITY_JOBS`` / ``QUALITY_SCHEDULES`` are the same, built
from the shipped inventory on first access. Building reads the inventory and the suite files only: GX is
imported when a check runs.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import cache

import dagster as dg

from data_inventory import Inventory, load_inventory
from orchestration.quality.checks import SOURCE_HEALTH_JOB, build_quality_checks, source_health_job
from orchestration.quality.scores import build_dataset_scores_asset


@dataclass(frozen=True)
class QualityDefinitions:
    checks: list
    assets: list
    jobs: list
    schedules: list


def build_quality(inventory: Inventory) -> QualityDefinitions:
    checks = build_quality_checks(inventory)
    schedule = dg.ScheduleDefinition(
        name="daily_source_health", job_name=SOURCE_HEALTH_JOB, cron_schedule="45 5 * * *",
        execution_timezone="America/New_York", default_status=dg.DefaultScheduleStatus.RUNNING,
        description="Every morning after ingestion: schema drift, missing exports and freshness of every source.",
    )
    return QualityDefinitions(checks, [build_dataset_scores_asset(inventory)], [source_health_job(checks)], [schedule])


@cache
def _default() -> QualityDefinitions:
    return build_quality(load_inventory())


def __getattr__(name: str):
    exports = {"QUALITY_CHECKS": "checks", "QUALITY_ASSETS": "assets", "QUALITY_JOBS": "jobs", "QUALITY_SCHEDULES": "schedules"}
    if name in exports:
        return getattr(_default(), exports[name])
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
