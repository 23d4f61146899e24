"""citystat.warehouse's helpers on a SQLAlchemy Core connection to a real PostgreSQL (the portable layer the metric
assets use there): hostile names, values and comments round-trip unchanged, declared types hold, reruns replace."""
import datetime as dt

import pandas as pd
import pytest

from citystat.warehouse import (
    MissingMartError, any_value_of, columns_of, fetch, has_table, quote_literal, read, require, scalar, value_at_max,
    write_table,
)


@pytest.mark.timeout(120)
def test_write_read_and_comments_on_postgres(postgres_url):
    import sqlalchemy as sa

    from citystat.postgres_warehouse import sqlalchemy_url

    engine = sa.create_engine(sqlalchemy_url(postgres_url), poolclass=sa.NullPool)
    hostile = "x'); DROP TABLE metrics.t; -- :name %s %(x)s \\ ;"
    frame = pd.DataFrame({'odd "name"': [hostile, None], "n": [1.0, float("nan")], "d": ["2026-01-31", None],
                          "flag": [True, None], "k": [3.0, None]})
    docs = {'odd "name"': "the resident's note: see %s and :param", "n": "a number", "d": "a day", "flag": "yes/no",
            "k": "a count"}
    with engine.begin() as con:
        assert not has_table(con, "metrics.t")
        with pytest.raises(MissingMartError, match="the memo needs metrics.t"):
            require(con, "metrics.t", ["n"], "the memo")
        assert write_table(con, "metrics.t", frame, "Bobby's table: 100% :done", docs,
                           {"d": "DATE", "flag": "BOOLEAN", "k": "INTEGER"}) == 2
    with engine.begin() as con:
        assert has_table(con, "metrics.t") and columns_of(con, "metrics.t") == list(frame.columns)
        back = read(con, 'SELECT * FROM metrics.t ORDER BY "odd ""name""" NULLS LAST')
        assert back.iloc[0].tolist() == [hostile, 1.0, pd.Timestamp(2026, 1, 31), True, 3]  # a DATE reads as DuckDB's
        assert back.iloc[1].isna().all()
        types = dict(con.execute(sa.text("select column_name, data_type from information_schema.columns "
                                         "where table_schema = 'metrics' and table_name = 't'")).fetchall())
        assert types == {'odd "name"': "text", "n": "double precision", "d": "date", "flag": "boolean", "k": "integer"}
        assert scalar(con, "select obj_description('metrics.t'::regclass)") == "Bobby's table: 100% :done"
        comments = dict(con.execute(sa.text(
            "select a.attname, col_description(a.attrelid, a.attnum) from pg_attribute a "
            "where a.attrelid = 'metrics.t'::regclass and a.attnum > 0")).fetchall())
        assert comments == docs
        write_table(con, "metrics.t", frame.head(1), "again", docs, {"d": "DATE", "flag": "BOOLEAN", "k": "INTEGER"})
        assert scalar(con, "select count(*) from metrics.t") == 1
        with pytest.raises(ValueError, match=r"positional parameters \(\?\) are DuckDB-only"):
            read(con, "select 1 where 1 = ?", [1])
    engine.dispose()


@pytest.mark.timeout(120)
def test_the_same_sql_gives_the_same_answer_on_duckdb_and_postgres(postgres_url):
    """What portable SQL is built from (a quoted literal holding ':name', named parameters, value_at_max,
    any_value_of, read's dtypes) on both engines, with hand-computed answers."""
    import duckdb
    import sqlalchemy as sa

    from citystat.postgres_warehouse import sqlalchemy_url

    hostile = "x'); DROP TABLE t; -- :name %s \\ ;"
    # site a: its latest month (March) has no name, so the latest name is February's; b has one month
    setup = ["CREATE TABLE t (site VARCHAR, month DATE, name VARCHAR, amount NUMERIC(10, 2))",
             "INSERT INTO t VALUES ('a', DATE '2026-01-01', 'Old', 1.25), ('a', DATE '2026-02-01', 'New', 2.50), "
             "('a', DATE '2026-03-01', NULL, 3.00), ('a', NULL, 'Undated', 4.00), ('b', DATE '2026-01-01', 'Bee', 5.00)"]
    engine = sa.create_engine(sqlalchemy_url(postgres_url), poolclass=sa.NullPool)
    duck = duckdb.connect()
    with engine.begin() as pg:
        for con in (duck, pg):
            for statement in setup:
                (con.execute(statement) if con is duck else con.execute(sa.text(statement)))
            assert read(con, f"SELECT {quote_literal(hostile)} AS v")["v"].tolist() == [hostile]
            assert read(con, "SELECT count(*) AS n FROM t WHERE name = :name", {"name": hostile})["n"].tolist() == [0]
            latest = fetch(con, f"SELECT site, {value_at_max(con, 'name', 'month')} AS name, "
                                f"{any_value_of(con, 'site')} AS any_site FROM t GROUP BY site ORDER BY site")
            assert latest == [{"site": "a", "name": "New", "any_site": "a"}, {"site": "b", "name": "Bee", "any_site": "b"}]
            frame = read(con, "SELECT month, amount FROM t WHERE site = 'a' ORDER BY month NULLS LAST")
            assert str(frame["month"].dtype).startswith("datetime64") and frame["amount"].dtype == "float64"
            assert frame["month"].iloc[0] == pd.Timestamp(2026, 1, 1) and frame["amount"].sum() == 10.75
    duck.close()
    engine.dispose()


@pytest.mark.timeout(120)
def test_read_chunks_and_the_contract_requests_filter_on_postgres(postgres_url):
    """read_chunks gives read()'s rows and dtypes a chunk at a time; the contract inputs keep the same 311 requests
    as on DuckDB (tests/contracts/test_contract_inputs.py, worked out by hand there): R2 and R3."""
    import sqlalchemy as sa

    from citystat.contracts.inputs import read_marts
    from citystat.postgres_warehouse import sqlalchemy_url
    from citystat.warehouse import read_chunks

    engine = sa.create_engine(sqlalchemy_url(postgres_url), poolclass=sa.NullPool)
    contracts = pd.DataFrame([{
        "contract_id": "CTR-2401", "vendor_id": "VND-0001", "vendor_name": "Vendor 1", "contract_type": "results_driven",
        "season_year": 2024, "region": "north", "start_date": "2024-04-01", "end_date": "2024-11-30",
        "total_value": 1_100_000.0, "base_payment": 1_000_000.0, "performance_pool": 100_000.0,
        "penalty_per_day_late": 1000.0, "penalty_per_incident": 500.0, "warranty_months": 24, "planned_miles": 2.0,
        "status": "completed"}])
    milestones = pd.DataFrame([{"milestone_id": "MS-2401", "contract_id": "CTR-2401", "milestone_name": "all done",
                                "due_date": "2024-11-30", "target_share": 1.0, "weight": 1.0, "metric": "progression"}])
    segment = {"contract_id": "CTR-2401", "street_name": "Oak St", "length_miles": 0.2, "scheduled_start": None,
               "pci_before": 50, "parking_incidents": 0, "environmental_incidents": 0, "rework_required": "N"}
    segments = pd.DataFrame([  # worked 2024-05-01..05-05, and from 2024-06-01 (open, last report 2024-06-07)
        segment | {"segment_id": "SEG-1", "status": "completed", "last_report_week": "2024-05-10",
                   "scheduled_end": "2024-05-05", "actual_start": "2024-05-01", "actual_end": "2024-05-05", "pci_after": 90},
        segment | {"segment_id": "SEG-2", "status": "in_progress", "last_report_week": "2024-06-07",
                   "scheduled_end": "2024-06-01", "actual_start": "2024-06-01", "actual_end": None, "pci_after": None}])
    for frame, dates in ((contracts, ["start_date", "end_date"]), (milestones, ["due_date"]),
                         (segments, ["last_report_week", "scheduled_start", "scheduled_end", "actual_start", "actual_end"])):
        for column in dates:
            frame[column] = pd.to_datetime(frame[column]).dt.date
    requests = pd.DataFrame([
        ("R1", "POTHOLE", "2024-04-29 23:59:00", "1 Oak St"), ("R2", "POTHOLE", "2024-04-30 08:00:00", "1 Oak St"),
        ("R3", "SIGN", "2024-06-08 17:00:00", "12B  OAK ST."), ("R4", "POTHOLE", "2024-06-09 00:00:00", "1 Oak St"),
        ("R5", "POTHOLE", "2024-05-10 09:00:00", None), ("R6", "GRAFFITI", "2024-05-10 09:00:00", "1 Oak St"),
        ("R7", "POTHOLE", "2024-05-10 09:00:00", "1 Oak Ave")],
        columns=["service_request_id", "service_code", "requested_at", "address"])
    requests["requested_at"] = pd.to_datetime(requests["requested_at"])
    with engine.begin() as con:
        con.execute(sa.text("create schema marts"))
        for name, frame in (("fct_contracts", contracts), ("fct_contract_milestones", milestones),
                            ("fct_paving_segments", segments), ("fct_service_requests", requests)):
            frame.to_sql(name, con, schema="marts", index=False)
        chunks = list(read_chunks(con, "select service_request_id, requested_at from marts.fct_service_requests "
                                       "where service_code = :code order by service_request_id", {"code": "POTHOLE"},
                                  vectors=1))
        whole = read(con, "select service_request_id, requested_at from marts.fct_service_requests "
                          "where service_code = :code order by service_request_id", {"code": "POTHOLE"})
        pd.testing.assert_frame_equal(pd.concat(chunks, ignore_index=True), whole)
        assert whole["service_request_id"].tolist() == ["R1", "R2", "R4", "R5", "R7"]
        assert sorted(read_marts(con).requests["service_request_id"]) == ["R2", "R3"]
