"""The graph as one job, and the automation that keeps it moving without a person (see lib/automation.py)."""
import dagster as dg

from orchestration.defs.automation.jobs import all_assets_job, job_executor
from orchestration.defs.automation.recovery import stale_run_recovery
from orchestration.defs.automation.sensor import build_automation_sensor


def build_defs() -> dg.Definitions:
    return dg.Definitions(jobs=[all_assets_job], sensors=[stale_run_recovery, build_automation_sensor()], executor=job_executor())
