"""Dagster assets of budget repurposing: one asset per ``citystat.budget.metrics`` table (convention:
docs/contracts.md, "Metrics assets"; methods: docs/budget_repurposing.md)."""

# No `from __future__ import annotations`: Dagster reads the compute functions' annotations at runtime.
import dagster as dg
from dagster_duckdb import DuckDBResource

from citystat.budget import scenario
from citystat.budget.metrics import TABLES, summary, write_metric
from citystat.warehouse import WAREHOUSE_POOL
from orchestration.lib.asset_inputs import run_unless_unchanged

GROUP = "budget"
# Besides the marts, every table reads the KPI registry and targets (the colours of failing programmes, outcomes).
REGISTRY_SEEDS = [dg.AssetKey(["reference", "kpi_registry"]), dg.AssetKey(["reference", "kpi_targets"])]


class ScenarioConfig(dg.Config):
    cut_pct: float = scenario.DEFAULT_CUT_PCT  # % of the total base budget
    floor_share: float = scenario.DEFAULT_FLOOR_SHARE  # never cut a programme below this share of its budget
    protected: list[str] = []  # programme codes never cut


def _build_asset(table: str) -> dg.AssetsDefinition:
    description, _, marts = TABLES[table]

    if table == "budget_scenario":
        @dg.asset(key=["metrics", table], group_name=GROUP, pool=WAREHOUSE_POOL, description=description,
                  deps=[*(dg.AssetKey(["marts", m]) for m in marts), *REGISTRY_SEEDS])
        def _scenario(context: dg.AssetExecutionContext, config: ScenarioConfig,
                      warehouse: DuckDBResource) -> dg.MaterializeResult:
            def work() -> dg.MaterializeResult:
                with warehouse.get_connection() as con:
                    frame = write_metric(con, table, cut_pct=config.cut_pct, floor_share=config.floor_share,
                                         protected=tuple(config.protected))
                return dg.MaterializeResult(metadata=summary(table, frame))
            return run_unless_unchanged(context, warehouse, work)
        return _scenario

    @dg.asset(key=["metrics", table], group_name=GROUP, pool=WAREHOUSE_POOL, description=description,
              deps=[*(dg.AssetKey(["marts", m]) for m in marts), *REGISTRY_SEEDS])
    def _metric(context: dg.AssetExecutionContext, warehouse: DuckDBResource) -> dg.MaterializeResult:
        def work() -> dg.MaterializeResult:
            with warehouse.get_connection() as con:
                frame = write_metric(con, table)
            return dg.MaterializeResult(metadata=summary(table, frame))
        return run_unless_unchanged(context, warehouse, work)
    return _metric


BUDGET_ASSETS = [_build_asset(table) for table in TABLES]
