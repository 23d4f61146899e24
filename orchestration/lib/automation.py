"""How the warehouse keeps itself up to date under the Dagster daemon.

Raw landing is started by the outside world (a file-drop sensor, the daily schedule for the APIs); every
asset after it (dbt models, quality scores, metrics, publish, dashboards) is *eager*: it runs once its inputs
were updated and none of them is still missing or in progress, so only what is downstream of the change runs.
"""
import dagster as dg

WAREHOUSE_AUTOMATION = dg.AutomationCondition.eager()


def automated(assets: list) -> list:
    """The same asset definitions, each following its inputs (`WAREHOUSE_AUTOMATION`)."""
    return list(dg.map_asset_specs(lambda spec: spec.replace_attributes(automation_condition=WAREHOUSE_AUTOMATION), assets))
