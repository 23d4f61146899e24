"""The Dagster code location (`dagster dev` from the repo root, `make ui`, and `citystat run` load ``defs``).

A thin assembly of the integrations under ``defs/``: ingestion (from the inventory), dbt, quality, metrics,
evaluations, publish, open data, and the automation that ties them into one graph (jobs, run recovery). With the
warehouse on PostgreSQL (CITYSTAT_WAREHOUSE_POSTGRES_URL) the graph holds what runs there: no open data or
dashboards yet, and the metrics, evaluations and quality assets and checks listed by their modules. Loading reads the inventory
YAML and the dbt manifest only: no dbt parse (unless the manifest is stale), no network, no data files.
"""
import dagster as dg

from citystat.postgres_warehouse import configured_url

from orchestration.defs.automation.definitions import build_defs as automation
from orchestration.defs.dbt.assets import build_defs as dbt
from orchestration.defs.evaluations.definitions import build_defs as evaluations
from orchestration.defs.ingestion.definitions import build_defs as ingestion
from orchestration.defs.metrics.definitions import build_defs as metrics
from orchestration.defs.open_data.definitions import build_defs as open_data
from orchestration.defs.publish.definitions import build_defs as publish
from orchestration.defs.quality.definitions import build_defs as quality


def build_definitions() -> dg.Definitions:
    warehouse = dg.Definitions.merge(ingestion(), dbt(), quality(), metrics(), evaluations())
    if configured_url():  # the warehouse on PostgreSQL: the part of the graph ported to it (docs/postgres_warehouse.md)
        return dg.Definitions.merge(warehouse, publish(warehouse), automation())
    return dg.Definitions.merge(warehouse, publish(warehouse), open_data(), automation())


defs = build_definitions()
