"""Vacant positions by department and how long they have been vacant, from the latest position snapshot.

A position vacant for a long time is budget the city pays for nothing; cities repurpose such positions. Days
vacant = snapshot date - ``vacant_since`` (unknown when the roster has no ``vacant_since``).
"""
from __future__ import annotations

import duckdb
import pandas as pd

from citystat.warehouse import read, require

POSITIONS_MART = "marts.fct_positions"
LONG_VACANCY_DAYS = 365
BANDS = ((90, "under 3 months"), (182, "3-6 months"), (365, "6-12 months"))
OVER_A_YEAR, UNKNOWN = "over 1 year", "unknown"

VACANCY_COLUMNS = ["snapshot_date", "department_code", "program_code", "position_id", "title", "vacant_since",
                   "days_vacant", "vacancy_band", "annual_salary"]

COLUMN_TYPES = {"snapshot_date": "DATE", "vacant_since": "DATE"}

COLUMN_DOCS = {
    "snapshot_date": "date of the latest position snapshot (month end)",
    "department_code": "department code",
    "program_code": "budget programme the position is funded by",
    "position_id": "position id (no employee data)",
    "title": "position title",
    "vacant_since": "date the position became vacant (NULL: not recorded)",
    "days_vacant": "snapshot_date - vacant_since, days",
    "vacancy_band": "under 3 months | 3-6 months | 6-12 months | over 1 year | unknown",
    "annual_salary": "budgeted annual salary of the position (USD)",
}


def band(days) -> str:
    if days is None or pd.isna(days):
        return UNKNOWN
    for limit, label in BANDS:
        if days < limit:
            return label
    return OVER_A_YEAR


def vacant_positions(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """metrics.vacant_positions: one row per position vacant in the latest snapshot, longest vacant first."""
    require(con, POSITIONS_MART, ("snapshot_date", "position_id", "department_code", "program_code", "title", "status",
                                  "vacant_since", "annual_salary"), "metrics.vacant_positions")
    frame = read(con, f"""
        SELECT snapshot_date, department_code, program_code, position_id, title, vacant_since,
               CAST(snapshot_date AS DATE) - CAST(vacant_since AS DATE) AS days_vacant,
               CAST(annual_salary AS DOUBLE PRECISION) AS annual_salary
        FROM {POSITIONS_MART}
        WHERE status = 'vacant' AND snapshot_date = (SELECT max(snapshot_date) FROM {POSITIONS_MART})""")
    # ordered here (longest vacant first): PostgreSQL's ORDER BY sorts text by collation, DuckDB's by code point
    frame["days_vacant"] = frame["days_vacant"].astype("Int64")
    frame = frame.sort_values(["days_vacant", "position_id"], ascending=[False, True], na_position="last",
                              kind="stable", ignore_index=True)
    frame["vacancy_band"] = frame["days_vacant"].map(band)
    return frame[VACANCY_COLUMNS]


def by_department(vacancies: pd.DataFrame, long_days: int = LONG_VACANCY_DAYS) -> pd.DataFrame:
    """Per department: vacant positions, how many over ``long_days``, median and longest days vacant, salaries."""
    columns = ["department_code", "vacant_positions", "vacant_over_1_year", "median_days_vacant", "max_days_vacant",
               "annual_salary_vacant", "annual_salary_over_1_year"]
    if vacancies.empty:
        return pd.DataFrame(columns=columns)
    frame = vacancies.assign(long=vacancies["days_vacant"].fillna(0) >= long_days)
    frame = frame.assign(long_salary=frame["annual_salary"].where(frame["long"], 0.0))
    summary = frame.groupby("department_code", as_index=False).agg(
        vacant_positions=("position_id", "count"), vacant_over_1_year=("long", "sum"),
        median_days_vacant=("days_vacant", "median"), max_days_vacant=("days_vacant", "max"),
        annual_salary_vacant=("annual_salary", "sum"), annual_salary_over_1_year=("long_salary", "sum"))
    return summary.sort_values(["annual_salary_over_1_year", "department_code"], ascending=[False, True])[columns].reset_index(drop=True)
