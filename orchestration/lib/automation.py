"""How the warehouse keeps itself up to date under the Dagster daemon.

Raw landing is started by the outside world (a file-drop sensor, the daily schedule for the APIs); every
asset after it (dbt models, quality scores, metrics, publish, dashboards) is *eager*: it runs once its inputs
were updated and none of them is still missing or in progress, so only what is downstream of the change runs.
An asset that was never built waits for a full build (`citystat run`, "Materialize all"): automation keeps an
existing warehouse up to date, it does not build a first one piece by piece.
"""
import dagster as dg

# Only an asset that exists is kept up to date: the first build of a warehouse is a person's act (`citystat run`,
# "Materialize all" in the UI). Without `~missing()`, a fresh city under the daemon builds a partial warehouse
# as soon as the file-drop sensor lands the drop folders, and dbt's relationship tests fail on the models that
# the other (API) sources feed and that do not exist yet ("Table with name dim_department does not exist").
WAREHOUSE_AUTOMATION = (
    dg.AutomationCondition.eager()
    & ~dg.AutomationCondition.missing().with_label("never built (the first build is a person's: citystat run)")
).with_label("eager, once built")


def automated(assets: list) -> list:
    """The same asset definitions, each following its inputs (`WAREHOUSE_AUTOMATION`)."""
    return list(dg.map_asset_specs(lambda spec: spec.replace_attributes(automation_condition=WAREHOUSE_AUTOMATION), assets))
