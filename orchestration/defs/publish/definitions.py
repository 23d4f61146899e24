"""Publish: the analysts' read-only snapshot, downstream of every table it copies, and the dashboards built on it."""
import dagster as dg

from citystat.postgres_warehouse import configured_url
from citystat.publish import PUBLISHED_SCHEMAS
from orchestration.defs.publish.dashboards import dashboard_site
from orchestration.defs.publish.snapshot import build_publish_asset
from orchestration.lib.automation import automated


def build_defs(warehouse: dg.Definitions) -> dg.Definitions:
    """``warehouse``: the definitions whose tables the snapshot copies (every key in a published schema)."""
    upstream = sorted({key for asset in warehouse.assets or [] for key in getattr(asset, "keys", [])
                       if key.path[0] in PUBLISHED_SCHEMAS})
    if configured_url():  # the published_* schemas on PostgreSQL; the dashboards read the DuckDB snapshot
        return dg.Definitions(assets=automated([build_publish_asset(upstream)]))
    return dg.Definitions(assets=automated([build_publish_asset(upstream), dashboard_site]))
