"""`warehouse_automation`: the automation condition sensor that makes the eager assets run, on from the start.

Dagster adds a `default_automation_condition_sensor` for assets with an automation condition, but it starts
STOPPED on a fresh instance (its default status), so nothing after raw would ever run until someone turned it
on in the UI. This sensor targets the same assets and is declared RUNNING: under the daemon (`dagster dev`,
`make ui`), a landed file flows raw -> dbt -> quality -> metrics -> publish -> dashboards with no command typed.

``CITYSTAT_AUTOMATE_DASHBOARDS=0`` leaves the dashboards (a few minutes of Evidence build per change) out of
this sensor: they then fall to Dagster's default sensor, which stays stopped unless a person starts it.
"""
import os

import dagster as dg

from orchestration.defs.publish.dashboards import SITE_KEY

SENSOR_NAME = "warehouse_automation"
AUTOMATE_DASHBOARDS_ENV = "CITYSTAT_AUTOMATE_DASHBOARDS"
INTERVAL_SECONDS = 15


def automate_dashboards() -> bool:
    return os.environ.get(AUTOMATE_DASHBOARDS_ENV, "1").strip().lower() not in {"0", "false", "no", "off"}


def build_automation_sensor() -> dg.AutomationConditionSensorDefinition:
    target = dg.AssetSelection.all()
    if not automate_dashboards():
        target = target - dg.AssetSelection.assets(SITE_KEY)
    return dg.AutomationConditionSensorDefinition(
        SENSOR_NAME,
        target=target,
        default_status=dg.DefaultSensorStatus.RUNNING,
        minimum_interval_seconds=INTERVAL_SECONDS,
        description="Runs every asset whose inputs were updated (eager: dbt models, quality scores, metrics, "
                    "publish" + (", dashboards" if automate_dashboards() else "; dashboards left out by "
                                 f"{AUTOMATE_DASHBOARDS_ENV}=0") + "), only downstream of what changed.",
    )
