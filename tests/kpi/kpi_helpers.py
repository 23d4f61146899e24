"""Shared test helpers: run rows through the real validation, preparation and status engine."""
import pandas as pd

from orchestration.kpi import series, status


def run_engine(rows: list[dict], registry=None, score_cap: float = status.DEFAULT_SCORE_CAP) -> pd.DataFrame:
    prepared = series.prepare(series.records_from_frame(pd.DataFrame(rows)), registry)
    return status.evaluate(prepared, score_cap=score_cap)


def row_of(table: pd.DataFrame, kpi_id: str, period: str) -> dict:
    match = table[(table["kpi_id"] == kpi_id) & (table["period"] == period)]
    assert len(match) == 1, f"{kpi_id} {period}: {len(match)} rows"
    return match.iloc[0].to_dict()


def monthly(kpi_id: str, start: str, values: list, **columns) -> list[dict]:
    """Consecutive monthly rows from ``start`` (YYYY-MM); None values are kept as missing."""
    year, month = map(int, start.split("-"))
    rows = []
    for value in values:
        rows.append({"kpi_id": kpi_id, "period": f"{year:04d}-{month:02d}", "value": value, **columns})
        month += 1
        if month == 13:
            year, month = year + 1, 1
    return rows
