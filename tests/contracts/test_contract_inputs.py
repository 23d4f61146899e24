"""Input checks: bad contract data is refused with the table, column and row named; marts read from DuckDB."""
from __future__ import annotations

import duckdb
import pandas as pd
import pytest

from citystat.contracts.inputs import ContractData, ContractDataError, read_marts

from contract_builders import contract, data, milestones, segment

SEGMENTS = [segment(1, start="2024-05-01", end="2024-05-05"), segment(2, start="2024-06-01", end=None)]


def with_change(rows: list[dict], index: int, **change) -> list[dict]:
    rows = [dict(r) for r in rows]
    rows[index].update(change)
    return rows


@pytest.mark.parametrize("build, message", [
    (lambda: data([{k: v for k, v in contract().items() if k != "planned_miles"}], milestones(), SEGMENTS),
     "contracts: missing column(s) planned_miles"),
    (lambda: data([contract()], milestones(), with_change(SEGMENTS, 0, actual_end="2024-13-01")),
     "segments: column actual_end, row SEG-241001: '2024-13-01' is not a date"),
    (lambda: data([contract()], milestones(), with_change(SEGMENTS, 1, length_miles="two")),
     "segments: column length_miles, row SEG-241002: 'two' is not a number"),
    (lambda: data([contract()], with_change(milestones(), 2, target_share=1.5), SEGMENTS),
     "milestones: row MS-240103, column target_share: 1.5 is not a share between 0 and 1"),
    (lambda: data([contract()], with_change(milestones(), 0, metric="speed"), SEGMENTS),
     "milestones: row MS-240101, column metric: 'speed' is not one of progression, quality, parking, environmental"),
    (lambda: data([contract(end_date="2024-03-01")], milestones(), SEGMENTS),
     "contracts: row CTR-2401, column end_date: 2024-03-01 is before start_date 2024-04-01"),
    (lambda: data([contract(), contract()], milestones(), SEGMENTS), "contracts: contract_id CTR-2401 appears more than once"),
    (lambda: data([contract(performance_pool=-5)], milestones(), SEGMENTS),
     "contracts: row CTR-2401, column performance_pool: -5.0 is negative"),
])
def test_bad_input_names_the_table_column_and_row(build, message):
    with pytest.raises(ContractDataError) as error:
        build()
    assert str(error.value) == message


def test_only_results_driven_contracts_and_their_segments_are_kept():
    other = contract("CTR-2410", "VND-0005", contract_type="fixed_price", season_year=None, performance_pool=0.0)
    orphan = segment(1, "CTR-2407", start="2024-05-01", end="2024-05-05")  # a mistyped contract id
    d = data([contract(), other], milestones(), SEGMENTS + [orphan])
    assert d.contracts["contract_id"].tolist() == ["CTR-2401"]
    assert d.segments["contract_id"].unique().tolist() == ["CTR-2401"]
    assert d.data_through == pd.Timestamp("2026-10-30") and d.seasons == [2024]


def test_data_through_defaults_to_the_latest_report():
    d = ContractData.from_frames([contract()], milestones(), SEGMENTS)
    assert d.data_through == pd.Timestamp("2024-06-07")  # the Friday after the latest segment's start


def test_read_marts_names_a_missing_mart_or_column(tmp_path):
    con = duckdb.connect(str(tmp_path / "w.duckdb"))
    con.execute("CREATE SCHEMA marts")
    with pytest.raises(ContractDataError, match=r"marts.fct_contracts does not exist in this warehouse"):
        read_marts(con)
    d = data([contract()], milestones(), SEGMENTS)
    con.register("c", d.contracts.drop(columns=["warranty_months"]))
    con.register("m", d.milestones)
    con.register("s", d.segments)
    con.execute("CREATE TABLE marts.fct_contracts AS SELECT * FROM c")
    con.execute("CREATE TABLE marts.fct_contract_milestones AS SELECT * FROM m")
    con.execute("CREATE TABLE marts.fct_paving_segments AS SELECT * FROM s")
    with pytest.raises(ContractDataError, match=r"marts.fct_contracts: missing column\(s\) warranty_months"):
        read_marts(con)
    con.execute("ALTER TABLE marts.fct_contracts ADD COLUMN warranty_months INTEGER DEFAULT 24")
    read = read_marts(con)  # no fct_service_requests: complaints are simply not measured
    assert read.requests is None and read.contracts["contract_id"].tolist() == ["CTR-2401"]
    assert read.segments["actual_end"].notna().sum() == 1


def test_read_marts_reads_only_the_requests_a_work_window_can_hold(tmp_path):
    """Segments worked 2024-05-01..05-05 and from 2024-06-01 (open, last report 2024-06-07): the windows span
    2024-05-01..2024-06-07, so with a day either side only work-zone requests with an address on a segment's street
    (Oak St) requested 2024-04-30..2024-06-08 are read (worked out by hand from SEGMENTS)."""
    con = duckdb.connect(str(tmp_path / "w.duckdb"))
    con.execute("CREATE SCHEMA marts")
    d = data([contract()], milestones(), SEGMENTS)
    for name, frame in (("fct_contracts", d.contracts), ("fct_contract_milestones", d.milestones),
                        ("fct_paving_segments", d.segments)):
        con.register("frame", frame)
        con.execute(f"CREATE TABLE marts.{name} AS SELECT * FROM frame")
        con.unregister("frame")
    con.execute("CREATE TABLE marts.fct_service_requests (service_request_id VARCHAR, service_code VARCHAR, "
                "requested_at TIMESTAMP, address VARCHAR)")
    con.executemany("INSERT INTO marts.fct_service_requests VALUES (?, ?, ?, ?)", [
        ("R1", "POTHOLE", "2024-04-29 23:59:00", "1 Oak St"),    # two days before the first start
        ("R2", "POTHOLE", "2024-04-30 08:00:00", "1 Oak St"),    # the day before: read
        ("R3", "SIGN", "2024-06-08 17:00:00", "12B  OAK ST."),   # the day after the last report, spelt otherwise: read
        ("R4", "POTHOLE", "2024-06-09 00:00:00", "1 Oak St"),    # two days after
        ("R5", "POTHOLE", "2024-05-10 09:00:00", None),          # no address: never in a work zone
        ("R6", "GRAFFITI", "2024-05-10 09:00:00", "1 Oak St"),   # not a work-zone service type
        ("R7", "POTHOLE", "2024-05-10 09:00:00", "1 Oak Ave"),   # a street no segment is on
    ])
    read = read_marts(con)
    assert sorted(read.requests["service_request_id"]) == ["R2", "R3"]
