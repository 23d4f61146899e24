"""Each contract metrics table computed from the marts (and the tables before it) and written to ``metrics``.

One function per table; the Dagster assets (orchestration/defs/metrics/contracts.py) only wire them."""
from __future__ import annotations

import duckdb
import pandas as pd

from citystat.contracts import allocation, grading, payments, performance, scorecards
from citystat.contracts.inputs import ContractData
from citystat.contracts.tables import read_table, write_contract_table


def _written(con: duckdb.DuckDBPyConnection, name: str, table: pd.DataFrame) -> pd.DataFrame:
    write_contract_table(con, name, table)
    return table


def write_performance(con: duckdb.DuckDBPyConnection, data: ContractData) -> pd.DataFrame:
    return _written(con, "contract_performance", performance.contract_performance(data))


def write_payments(con: duckdb.DuckDBPyConnection, data: ContractData) -> pd.DataFrame:
    return _written(con, "contract_payments", payments.payment_lines(data))


def write_grades(con: duckdb.DuckDBPyConnection, data: ContractData, at: float = 0.75) -> pd.DataFrame:
    return _written(con, "contract_grades", grading.grade_contracts(data, grading.GradingRules(at=at)))


def write_allocations(con: duckdb.DuckDBPyConnection, data: ContractData, min_share: float = 0.10,
                      capacity_headroom: float = 1.5) -> pd.DataFrame:
    rules = allocation.AllocationRules(min_share=min_share, capacity_headroom=capacity_headroom)
    return _written(con, "contract_allocations", allocation.allocate(read_table(con, "contract_grades"), data.contracts, rules))


def write_scorecards(con: duckdb.DuckDBPyConnection, data: ContractData) -> pd.DataFrame:
    table = scorecards.vendor_scorecards(data, read_table(con, "contract_performance"), read_table(con, "contract_grades"),
                                         read_table(con, "contract_allocations"))
    return _written(con, "vendor_scorecards", table)


def summary(table: pd.DataFrame, data: ContractData) -> dict:
    """What every contract table's run shows at a glance (the assets' materialization metadata)."""
    return {"rows": len(table), "data_through": str(data.data_through.date()), "seasons": ", ".join(map(str, data.seasons))}

