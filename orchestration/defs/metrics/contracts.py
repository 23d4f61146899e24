"""Dagster assets of contract performance: thin wrappers that read the marts, run the pure rules and
write the ``metrics`` tables (convention: docs/contracts.md, "Metrics assets")."""

# No `from __future__ import annotations`: Dagster reads the compute functions' annotations at runtime.
import dagster as dg
import pandas as pd
from dagster_duckdb import DuckDBResource

from citystat.contracts import allocation, grading, payments, performance, scorecards
from citystat.contracts.inputs import MARTS, read_marts
from citystat.contracts.tables import read_table, write_table
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


def _summary(table: pd.DataFrame, data) -> dict:
    return {"rows": len(table), "data_through": str(data.data_through.date()), "seasons": ", ".join(map(str, data.seasons))}


@dg.asset(
    key=_metric("contract_performance"), group_name=GROUP, pool=WAREHOUSE_POOL,
    deps=[_mart("contracts"), _mart("milestones"), _mart("segments"), _mart("requests")],
    description="Results-driven contracts measured month by month: schedule, quality, incidents, 311 complaints, cost.",
)
def contract_performance(warehouse: DuckDBResource) -> dg.MaterializeResult:
    with warehouse.get_connection() as con:
        data = read_marts(con)
        table = performance.contract_performance(data)
        write_table(con, "contract_performance", table)
    return dg.MaterializeResult(metadata=_summary(table, data))


@dg.asset(
    key=_metric("contract_payments"), group_name=GROUP, pool=WAREHOUSE_POOL,
    deps=[_mart("contracts"), _mart("milestones"), _mart("segments")],
    description="Performance payment audit lines: one per benchmark and penalty, with the arithmetic in words.",
)
def contract_payments(warehouse: DuckDBResource) -> dg.MaterializeResult:
    with warehouse.get_connection() as con:
        data = read_marts(con)
        table = payments.payment_lines(data)
        write_table(con, "contract_payments", table)
    metadata = _summary(table, data)
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
        table = grading.grade_contracts(data, grading.GradingRules(at=config.at))
        write_table(con, "contract_grades", table)
    lowest = table.sort_values("rank").groupby("season_year").tail(1)
    metadata = _summary(table, data)
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
        grades = read_table(con, "contract_grades")
        rules = allocation.AllocationRules(min_share=config.min_share, capacity_headroom=config.capacity_headroom)
        table = allocation.allocate(grades, data.contracts, rules)
        write_table(con, "contract_allocations", table)
    return dg.MaterializeResult(metadata=_summary(table, data))


@dg.asset(
    key=_metric("vendor_scorecards"), group_name=GROUP, pool=WAREHOUSE_POOL,
    deps=[_metric("contract_performance"), _metric("contract_grades"), _metric("contract_allocations"), _mart("contracts")],
    description="Vendor record per paving season and to date, with a review flag for renewal decisions.",
)
def vendor_scorecards(warehouse: DuckDBResource) -> dg.MaterializeResult:
    with warehouse.get_connection() as con:
        data = read_marts(con)
        table = scorecards.vendor_scorecards(
            data, read_table(con, "contract_performance"), read_table(con, "contract_grades"),
            read_table(con, "contract_allocations"))
        write_table(con, "vendor_scorecards", table)
    metadata = _summary(table, data)
    metadata["flagged_for_review"] = ", ".join(sorted(set(table.loc[table["review_flag"].astype(bool), "vendor_id"])))
    return dg.MaterializeResult(metadata=metadata)


CONTRACT_ASSETS = [contract_performance, contract_payments, contract_grades, contract_allocations, vendor_scorecards]
