"""Dagster assets of contract performance: each wires one ``citystat.contracts.metrics`` table to the marts it
reads (convention: docs/contracts.md, "Metrics assets")."""

# No `from __future__ import annotations`: Dagster reads the compute functions' annotations at runtime.
import dagster as dg
from dagster_duckdb import DuckDBResource

from citystat.contracts import metrics
from citystat.contracts.inputs import MARTS, read_marts, requests_digest
from citystat.warehouse import WAREHOUSE_POOL
from orchestration.lib.asset_inputs import run_unless_unchanged

GROUP = "contracts"


def _mart(name: str) -> dg.AssetKey:
    return dg.AssetKey(["marts", MARTS[name]])


def _metric(table: str) -> dg.AssetKey:
    return dg.AssetKey(["metrics", table])


# Every asset reads all of them (read_marts): declared in full, so that a rebuild of any is a reason to recompute.
MARTS_READ = [_mart(name) for name in MARTS]


def _computed(context: dg.AssetExecutionContext, warehouse: DuckDBResource, write, more=None) -> dg.MaterializeResult:
    """`write(con, data)` over the marts, with the table's summary (and `more(table)`) as metadata, unless no input
    changed since it last succeeded; 311 requests count only when the rows the metrics can count changed."""
    def work() -> dg.MaterializeResult:
        with warehouse.get_connection() as con:
            data = read_marts(con)
            table = write(con, data)
        return dg.MaterializeResult(metadata={**metrics.summary(table, data), **(more(table) if more else {})})

    def requests_read() -> str | None:
        with warehouse.get_connection() as con:
            return requests_digest(con)
    return run_unless_unchanged(context, warehouse, work, digests={_mart("requests"): requests_read})


class GradingConfig(dg.Config):
    at: float = 0.75  # share of the season at which contractors are graded


class AllocationConfig(dg.Config):
    min_share: float = 0.10  # minimum share of the remaining work for every contract not withdrawn
    capacity_headroom: float = 1.5  # capacity = headroom x max(pace so far x days left, own remaining planned miles)


@dg.asset(
    key=_metric("contract_performance"), group_name=GROUP, pool=WAREHOUSE_POOL,
    deps=MARTS_READ,
    description="Results-driven contracts measured month by month: schedule, quality, incidents, 311 complaints, cost.",
)
def contract_performance(context: dg.AssetExecutionContext, warehouse: DuckDBResource) -> dg.MaterializeResult:
    return _computed(context, warehouse, metrics.write_performance)


@dg.asset(
    key=_metric("contract_payments"), group_name=GROUP, pool=WAREHOUSE_POOL,
    deps=MARTS_READ,
    description="Performance payment audit lines: one per benchmark and penalty, with the arithmetic in words.",
)
def contract_payments(context: dg.AssetExecutionContext, warehouse: DuckDBResource) -> dg.MaterializeResult:
    return _computed(context, warehouse, metrics.write_payments, lambda table: {
        "earned": float(table["earned"].sum()), "penalties": float(table["penalty"].sum()),
        "pending": int((table["status"] == "pending").sum())})


@dg.asset(
    key=_metric("contract_grades"), group_name=GROUP, pool=WAREHOUSE_POOL,
    deps=MARTS_READ,
    description="In-season grades (default three quarters through the season): score 0-100, letter, evidence.",
)
def contract_grades(context: dg.AssetExecutionContext, config: GradingConfig, warehouse: DuckDBResource) -> dg.MaterializeResult:
    def lowest_by_season(table) -> dict:
        lowest = table.sort_values("rank").groupby("season_year").tail(1)
        return {"lowest_by_season": ", ".join(f"{r.season_year}: {r.vendor_id} {r.grade}" for r in lowest.itertuples())}
    return _computed(context, warehouse, lambda con, data: metrics.write_grades(con, data, at=config.at), lowest_by_season)


@dg.asset(
    key=_metric("contract_allocations"), group_name=GROUP, pool=WAREHOUSE_POOL,
    deps=[_metric("contract_grades"), *MARTS_READ],
    description="The remaining (final-quarter) work of each season awarded by grade under explicit rules.",
)
def contract_allocations(context: dg.AssetExecutionContext, config: AllocationConfig,
                         warehouse: DuckDBResource) -> dg.MaterializeResult:
    return _computed(context, warehouse, lambda con, data: metrics.write_allocations(
        con, data, min_share=config.min_share, capacity_headroom=config.capacity_headroom))


@dg.asset(
    key=_metric("vendor_scorecards"), group_name=GROUP, pool=WAREHOUSE_POOL,
    deps=[_metric("contract_performance"), _metric("contract_grades"), _metric("contract_allocations"), *MARTS_READ],
    description="Vendor record per paving season and to date, with a review flag for renewal decisions.",
)
def vendor_scorecards(context: dg.AssetExecutionContext, warehouse: DuckDBResource) -> dg.MaterializeResult:
    return _computed(context, warehouse, metrics.write_scorecards, lambda table: {
        "flagged_for_review": ", ".join(sorted(set(table.loc[table["review_flag"].astype(bool), "vendor_id"])))})


CONTRACT_ASSETS = [contract_performance, contract_payments, contract_grades, contract_allocations, vendor_scorecards]
