"""The inputs of the contract metrics: results-driven contracts, their benchmarks, the paving segments
and (optionally) 311 requests, read from the marts and checked once so every rule can trust them.

Tests build the same object from plain records (``ContractData.from_frames``); the assets and the CLI
read it from a DuckDB warehouse (``read_marts``). Bad input raises ``ContractDataError`` naming the
table, the column and, for bad values, the row.
"""
from __future__ import annotations

from dataclasses import dataclass

import duckdb
import pandas as pd

from citystat.warehouse import (columns_of, has_table, is_duckdb, quote_identifier, quote_literal, quote_table, read,
                                read_chunks)

# Columns each input must have (mart names: fct_contracts, fct_contract_milestones, fct_paving_segments,
# fct_service_requests). Anything else in the frames is ignored.
CONTRACT_COLUMNS = {
    "contract_id": "text", "vendor_id": "text", "vendor_name": "text", "contract_type": "text", "season_year": "int",
    "region": "text", "start_date": "date", "end_date": "date", "total_value": "number", "base_payment": "number",
    "performance_pool": "number", "penalty_per_day_late": "number", "penalty_per_incident": "number",
    "warranty_months": "int", "planned_miles": "number", "status": "text",
}
MILESTONE_COLUMNS = {
    "milestone_id": "text", "contract_id": "text", "milestone_name": "text", "metric": "text", "due_date": "date",
    "target_share": "number", "weight": "number",
}
SEGMENT_COLUMNS = {
    "segment_id": "text", "contract_id": "text", "street_name": "text", "length_miles": "number", "status": "text",
    "last_report_week": "date", "scheduled_start": "date", "scheduled_end": "date", "actual_start": "date",
    "actual_end": "date", "pci_before": "number", "pci_after": "number", "parking_incidents": "number",
    "environmental_incidents": "number", "rework_required": "bool",
}
REQUEST_COLUMNS = {"service_request_id": "text", "service_code": "text", "requested_at": "date", "address": "text"}

MARTS = {
    "contracts": "fct_contracts",
    "milestones": "fct_contract_milestones",
    "segments": "fct_paving_segments",
    "requests": "fct_service_requests",
}
BENCHMARK_METRICS = ("progression", "quality", "parking", "environmental")
# 311 service types that a resurfacing work zone can plausibly cause (see docs/contracts_performance.md)
WORK_ZONE_SERVICE_CODES = ("POTHOLE", "SIDEWALK", "SIGN", "NOISE", "TRAFFIC_SIGNAL", "ABANDONED_VEHICLE")


class ContractDataError(ValueError):
    """Contract data that the rules cannot use; the message names the table, column and row."""


@dataclass(frozen=True)
class ContractData:
    contracts: pd.DataFrame  # results-driven contracts only
    milestones: pd.DataFrame
    segments: pd.DataFrame  # segments of those contracts only (orphan contract ids are dropped)
    requests: pd.DataFrame | None  # 311 requests of the work-zone service types, or None when not available
    data_through: pd.Timestamp  # date of the latest paving report: "today" for the rules

    @classmethod
    def from_frames(cls, contracts, milestones, segments, requests=None, data_through=None) -> "ContractData":
        """Check and type the inputs (DataFrames or lists of dicts). ``data_through`` defaults to the latest
        paving report week (the day the data speaks for); with no reports at all, to today."""
        contracts = _typed("contracts", _frame(contracts, CONTRACT_COLUMNS), CONTRACT_COLUMNS, "contract_id")
        contracts = contracts[contracts["contract_type"] == "results_driven"].reset_index(drop=True)
        milestones = _typed("milestones", _frame(milestones, MILESTONE_COLUMNS), MILESTONE_COLUMNS, "milestone_id")
        segments = _typed("segments", _frame(segments, SEGMENT_COLUMNS), SEGMENT_COLUMNS, "segment_id")
        _check_values(contracts, milestones, segments)
        known = set(contracts["contract_id"])
        milestones = milestones[milestones["contract_id"].isin(known)].reset_index(drop=True)
        segments = segments[segments["contract_id"].isin(known)].reset_index(drop=True)
        if requests is not None:
            requests = _typed("requests", _frame(requests, REQUEST_COLUMNS), REQUEST_COLUMNS, "service_request_id")
            requests = requests[requests["service_code"].isin(WORK_ZONE_SERVICE_CODES)].reset_index(drop=True)
        if data_through is None:
            latest = segments["last_report_week"].max()
            data_through = latest if pd.notna(latest) else pd.Timestamp.today().normalize()
        return cls(contracts, milestones, segments, requests, pd.Timestamp(data_through).normalize())

    def season(self, season_year: int) -> "ContractData":
        """The same data narrowed to one paving season."""
        contracts = self.contracts[self.contracts["season_year"] == season_year].reset_index(drop=True)
        ids = set(contracts["contract_id"])
        return ContractData(
            contracts,
            self.milestones[self.milestones["contract_id"].isin(ids)].reset_index(drop=True),
            self.segments[self.segments["contract_id"].isin(ids)].reset_index(drop=True),
            self.requests,
            self.data_through,
        )

    @property
    def seasons(self) -> list[int]:
        return sorted(int(y) for y in self.contracts["season_year"].dropna().unique())


def _frame(rows, columns: dict) -> pd.DataFrame:
    frame = rows.copy() if isinstance(rows, pd.DataFrame) else pd.DataFrame(list(rows))
    if frame.empty and not len(frame.columns):
        frame = pd.DataFrame(columns=list(columns))
    return frame


def _typed(table: str, frame: pd.DataFrame, columns: dict, key: str) -> pd.DataFrame:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise ContractDataError(f"{table}: missing column(s) {', '.join(missing)}")
    out = pd.DataFrame(index=frame.index)
    for column, kind in columns.items():
        values = frame[column]
        try:
            out[column] = _convert(values, kind)
        except (ValueError, TypeError) as error:
            bad = _first_bad(values, kind)
            raise ContractDataError(f"{table}: column {column}, row {bad}: cannot read as {kind} ({error})") from None
        if kind in ("date", "number", "int"):
            lost = values.notna() & ~values.astype("string").str.strip().isin(["", "<NA>", "nan", "NaT"]) & out[column].isna()
            if lost.any():
                row = frame.loc[lost.idxmax(), key]
                raise ContractDataError(f"{table}: column {column}, row {row}: {values[lost.idxmax()]!r} is not a {kind}")
    if out[key].isna().any():
        raise ContractDataError(f"{table}: column {key} is empty on row {int(out[key].isna().idxmax()) + 1}")
    duplicated = out[key][out[key].duplicated()]
    if len(duplicated):
        raise ContractDataError(f"{table}: {key} {duplicated.iloc[0]} appears more than once")
    return out.reset_index(drop=True)


def _convert(values: pd.Series, kind: str) -> pd.Series:
    if kind == "text":
        return values.astype("string").str.strip().replace("", pd.NA)
    if kind == "date":
        return pd.to_datetime(values.astype("string").str.slice(0, 10), errors="coerce", format="%Y-%m-%d")
    if kind == "number":
        return pd.to_numeric(values, errors="coerce").astype(float)  # NaN when missing (fast numpy math)
    if kind == "int":
        return pd.to_numeric(values, errors="coerce").round().astype("Int64")
    if kind == "bool":
        text = values.astype("string").str.strip().str.upper()
        return text.map({"Y": True, "TRUE": True, "1": True, "N": False, "FALSE": False, "0": False}).fillna(False).astype(bool)
    raise AssertionError(kind)


def _first_bad(values: pd.Series, kind: str):
    for i, value in values.items():
        try:
            _convert(pd.Series([value]), kind)
        except (ValueError, TypeError):
            return i + 1
    return "?"


def _check_values(contracts: pd.DataFrame, milestones: pd.DataFrame, segments: pd.DataFrame) -> None:
    """Values no rule can work with; everything merely incomplete (a missing PCI, an unknown contract) is
    handled by the rules and explained in their output instead."""
    def fail(table, key, column, message):
        raise ContractDataError(f"{table}: row {key}, column {column}: {message}")

    for row in contracts.itertuples():
        for column in ("start_date", "end_date"):
            if pd.isna(getattr(row, column)):
                fail("contracts", row.contract_id, column, "is empty")
        if row.end_date < row.start_date:
            fail("contracts", row.contract_id, "end_date", f"{row.end_date:%Y-%m-%d} is before start_date {row.start_date:%Y-%m-%d}")
        for column in ("base_payment", "performance_pool", "penalty_per_day_late", "penalty_per_incident"):
            value = getattr(row, column)
            if pd.notna(value) and value < 0:
                fail("contracts", row.contract_id, column, f"{value} is negative")
    for row in milestones.itertuples():
        if row.metric not in BENCHMARK_METRICS:
            fail("milestones", row.milestone_id, "metric", f"{row.metric!r} is not one of {', '.join(BENCHMARK_METRICS)}")
        if pd.isna(row.target_share) or not 0 <= row.target_share <= 1:
            fail("milestones", row.milestone_id, "target_share", f"{row.target_share} is not a share between 0 and 1")
        if pd.isna(row.weight) or not 0 <= row.weight <= 1:
            fail("milestones", row.milestone_id, "weight", f"{row.weight} is not a share between 0 and 1")
        if pd.isna(row.due_date):
            fail("milestones", row.milestone_id, "due_date", "is empty")
    for row in segments.itertuples():
        if pd.isna(row.length_miles) or row.length_miles < 0:
            fail("segments", row.segment_id, "length_miles", f"{row.length_miles} is not a length")
        if pd.isna(row.scheduled_end):
            fail("segments", row.segment_id, "scheduled_end", "is empty")


def read_marts(con: duckdb.DuckDBPyConnection, schema: str = "marts") -> ContractData:
    """Read the inputs from a warehouse (working or snapshot, DuckDB or PostgreSQL: citystat.warehouse's
    helpers). 311 requests are optional: without ``fct_service_requests`` the complaint metrics are left empty."""
    frames = {}
    for key, mart in MARTS.items():
        qualified = f"{schema}.{mart}"
        if not has_table(con, qualified):
            if key == "requests":
                frames[key] = None
                continue
            raise ContractDataError(f"{qualified} does not exist in this warehouse: build the marts first (dbt build)")
        columns = {"contracts": CONTRACT_COLUMNS, "milestones": MILESTONE_COLUMNS, "segments": SEGMENT_COLUMNS,
                   "requests": REQUEST_COLUMNS}[key]
        have = set(columns_of(con, qualified))
        missing = [c for c in columns if c not in have]
        if missing:
            raise ContractDataError(f"{qualified}: missing column(s) {', '.join(missing)}")
        select = ", ".join(quote_identifier(c) for c in columns)
        if key == "requests":
            frames[key] = _work_zone_requests(con, schema, f"SELECT {select} FROM {quote_table(qualified)}",
                                              frames["segments"])
        else:
            frames[key] = read(con, f"SELECT {select} FROM {quote_table(qualified)}")
    return ContractData.from_frames(**frames)


def _work_zone_requests(con, schema: str, select_from: str, segments: pd.DataFrame) -> pd.DataFrame:
    """The 311 requests of ``select_from`` a work zone can hold (a large city's history of 311 would not fit in
    memory; the rules read requests only through work_zone_complaints): work-zone types, with an address inside
    the work windows (a day either side), kept chunk by chunk when their street is one a segment is on."""
    where = " WHERE service_code IN (" + ", ".join(quote_literal(c) for c in WORK_ZONE_SERVICE_CODES) + ")"
    params = {}
    window = work_window(con, schema)
    if window and None not in window:
        where += (" AND address IS NOT NULL AND CAST(requested_at AS DATE) BETWEEN CAST(:lower AS DATE) - 1"
                  " AND CAST(:upper AS DATE) + 1")
        params = {"lower": window[0], "upper": window[1]}
    streets = set(street_key(segments["street_name"].dropna().astype(str)))
    kept = [chunk[street_key(chunk["address"].astype("string").str.replace(HOUSE_NUMBER, "", regex=True))
                  .isin(streets).fillna(False).to_numpy(dtype=bool)]
            for chunk in read_chunks(con, select_from + where, params)]
    return pd.concat(kept, ignore_index=True) if kept else read(con, f"{select_from} WHERE false")


HOUSE_NUMBER = r"^\s*\d+[A-Za-z]?(-\d+)?\s+"


def street_key(names: pd.Series) -> pd.Series:
    """A street name as the work-zone rule matches it: lower case, letters, digits and single spaces (an address
    first loses its house number, ``HOUSE_NUMBER``)."""
    return names.str.lower().str.replace(r"[^a-z0-9 ]", "", regex=True).str.split().str.join(" ")


def work_window(con, schema: str = "marts") -> tuple | None:
    """The first day any segment of a results-driven contract was started and the last day one was worked or
    reported on (``(None, ...)``: no segment started; ``(..., None)``: no end or report, so the rules fall back
    to today). None without the segments and contracts marts. As from_frames and work_zone_complaints: an open
    segment is worked up to its latest report, and with no report to the latest report of them all."""
    segments, contracts = (f"{schema}.{MARTS[k]}" for k in ("segments", "contracts"))
    if not (has_table(con, segments) and has_table(con, contracts)):
        return None
    row = read(con, f"select min(s.actual_start) as lower, greatest(max(s.actual_end), max(s.last_report_week)) as upper "
                    f"from {quote_table(segments)} s join {quote_table(contracts)} c using (contract_id) "
                    f"where c.contract_type = 'results_driven'").iloc[0]
    return tuple(None if pd.isna(v) else pd.Timestamp(v).date() for v in (row["lower"], row["upper"]))


def requests_digest(con: duckdb.DuckDBPyConnection, schema: str = "marts") -> str | None:
    """A digest of the only 311 rows the metrics can count: work-zone service types, with an address, requested
    between the first segment start and the last day any results-driven contract is measured on (a day either side).

    The rules read requests only through ``work_zone_complaints``, which keeps a request only inside a segment's
    work window, so a request outside every window (a new one after the paving season) changes no metric. None
    when it cannot tell (not DuckDB, no paving report to bound the windows): then the requests count as changed."""
    if not is_duckdb(con):
        return None
    requests = f"{schema}.{MARTS['requests']}"
    if not has_table(con, requests):
        return "absent"
    window = work_window(con, schema)
    if window is None:
        return None
    lower, upper = window
    if lower is None:
        return "no segment started"  # no work window: requests are read but none can be counted
    if upper is None:
        return None  # data_through falls back to today
    codes = ", ".join(quote_literal(c) for c in WORK_ZONE_SERVICE_CODES)
    count, total = con.execute(
        f"select count(*), sum(hash(service_request_id, service_code, requested_at, address)::hugeint)::varchar "
        f"from {quote_table(requests)} where service_code in ({codes}) and address is not null "
        f"and requested_at::date between ?::date - 1 and ?::date + 1", [lower, upper]).fetchone()
    return f"{lower}..{upper}: {count} rows, {total}"
