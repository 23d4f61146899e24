"""Dagster assets of contract performance: each wires one ``citystat.contracts.metrics`` table to the marts it
reads (convention: docs/contracts.md, "Metrics assets")."""

# No `from __future__ import annotations`: Dagster reads the compute functions' annotations at runtime.
import dagster as dg
from dagster_duckdb import DuckDBResource

from citystat.contracts import metrics
from citystat.contracts.inputs import MARTS, read_marts
from citystat.warehouse import WAREHOUSE_POOL

GROUP = "contracts"


def _mart(name: str) -> dg.AssetKey:
    return dg.AssetKey(["marts", MARTS[name]])


def _metric(table: str) -> dg.AssetKey:
    return dg.AssetKey(["metrics", table])


class GradingConfig(dg.Config):
    at: float = 0.75  # share of the season at which contractors are graded


class AllocationConfig(dg.Config):
    min_share: float = 0.10  # minimum share of the remaining work for every contract not withdrawn
    capacity_headroom: float = 1.5  # capacity = headroom x max(pace so far x days left, own remaining planned miles)


@dg.asset(
    key=_metric("contract_performance"), group_name=GROUP, pool=WAREHOUSE_POOL,
    deps=[_mart("contracts"), _mart("milestones"), _mart("segments"), _mart("requests")],
    description="Results-driven contracts measured month by month: schedule, quality, incidents, 311 complaints, cost.",
)
def contract_performance(warehouse: DuckDBResource) -> dg.MaterializeResult:
    with warehouse.get_connection() as con:
        data = read_marts(con)
        table = metrics.write_performance(con, data)
    return dg.MaterializeResult(metadata=metrics.summary(table, data))


@dg.asset(
    key=_metric("contract_payments"), group_name=GROUP, pool=WAREHOUSE_POOL,
    deps=[_mart("contracts"), _mart("milestones"), _mart("segments")],
    description="Performance payment audit lines: one per benchmark and penalty, with the arithmetic in words.",
)
def contract_payments(warehouse: DuckDBResource) -> dg.MaterializeResult:
    with warehouse.get_connection() as con:
        data = read_marts(con)
        table = metrics.write_payments(con, data)
    metadata = metrics.summary(table, data)
    metadata.update(earned=float(table["earned"].sum()), penalties=float(table["penalty"].sum()),
                    pending=int((table["status"] == "pending").sum()))
    return dg.MaterializeResult(metadata=metadata)


@dg.asset(
    key=_metric("contract_grades"), group_name=GROUP, pool=WAREHOUSE_POOL,
    deps=[_mart("contracts"), _mart("milestones"), _mart("segments"), _mart("requests")],
    description="In-season grades (default three quarters through the season): score 0-100, letter, evidence.",
)
def contract_grades(config: GradingConfig, warehouse: DuckDBResource) -> dg.MaterializeResult:
    with warehouse.get_connection() as con:
        data = read_marts(con)
        table = metrics.write_grades(con, data, at=config.at)
    lowest = table.sort_values("rank").groupby("season_year").tail(1)
    metadata = metrics.summary(table, data)
    metadata["lowest_by_season"] = ", ".join(f"{r.season_year}: {r.vendor_id} {r.grade}" for r in lowest.itertuples())
    return dg.MaterializeResult(metadata=metadata)


@dg.asset(
    key=_metric("contract_allocations"), group_name=GROUP, pool=WAREHOUSE_POOL,
    deps=[_metric("contract_grades"), _mart("contracts")],
    description="The remaining (final-quarter) work of each season awarded by grade under explicit rules.",
)
def contract_allocations(config: AllocationConfig, warehouse: DuckDBResource) -> dg.MaterializeResult:
    with warehouse.get_connection() as con:
        data = read_marts(con)
        table = metrics.write_allocations(con, data, min_share=config.min_share,
                                          capacity_headroom=config.capacity_headroom)
    return dg.MaterializeResult(metadata=metrics.summary(table, data))


@dg.asset(
    key=_metric("vendor_scorecards"), group_name=GROUP, pool=WAREHOUSE_POOL,
    deps=[_metric("contract_performance"), _metric("contract_grades"), _metric("contract_allocations"), _mart("contracts")],
    description="Vendor record per paving season and to date, with a review flag for renewal decisions.",
)
def vendor_scorecards(warehouse: DuckDBResource) -> dg.MaterializeResult:
    with warehouse.get_connection() as con:
        data = read_marts(con)
        table = metrics.write_scorecards(con, data)
    metadata = metrics.summary(table, data)
    metadata["flagged_for_review"] = ", ".join(sorted(set(table.loc[table["review_flag"].astype(bool), "vendor_id"])))
    return dg.MaterializeResult(metadata=metadata)


CONTRACT_ASSETS = [contract_performance, contract_payments, contract_grades, contract_allocations, vendor_scorecards]
