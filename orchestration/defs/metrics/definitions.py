"""What the marts become for the performance office: KPI status, flags, goals, CityScore and the memo;
contract performance; budget repurposing; and the inventory view for the chief data officer."""
import dagster as dg

from citystat.postgres_warehouse import configured_url

from orchestration.defs.metrics.budget import BUDGET_ASSETS
from orchestration.defs.metrics.contracts import CONTRACT_ASSETS
from orchestration.defs.metrics.inventory import INVENTORY_ASSETS
from orchestration.defs.metrics.kpi import METRICS_ASSETS, POSTGRES_METRICS_ASSETS
from orchestration.lib.automation import automated
from orchestration.lib.resources import warehouse_resource

def build_defs() -> dg.Definitions:
    assets = [*METRICS_ASSETS, *CONTRACT_ASSETS, *BUDGET_ASSETS, *INVENTORY_ASSETS]
    if configured_url():  # the metrics ported to the portable layer (citystat.warehouse's helpers) so far
        assets = [*POSTGRES_METRICS_ASSETS, *CONTRACT_ASSETS, *BUDGET_ASSETS, *INVENTORY_ASSETS]
    return dg.Definitions(
        assets=automated(assets),
        resources={"warehouse": warehouse_resource()},
    )
