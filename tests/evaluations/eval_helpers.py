"""A tiny demo city's 311 requests as `marts.fct_service_requests` in a DuckDB file, built in the test (no pipeline):
the columns the evaluations read, computed the way the mart does (local wall-clock times, days_to_close =
(closed - requested) / 86400 s, on time = closed by the expected time)."""
from __future__ import annotations

import datetime as dt
import json
import sqlite3
import subprocess
import sys
from pathlib import Path

import duckdb
import pandas as pd

ROOT = Path(__file__).resolve().parents[2]
AS_OF = dt.date(2026, 10, 31)  # the demo city's default as-of date


def generate_city(out: Path, scale: float = 0.05, clean: bool = False) -> Path:
    args = [str(Path(sys.executable).with_name("citystat")), "demo-city", "generate", "--out", str(out), "--scale", str(scale)]
    subprocess.run(args + (["--clean"] if clean else []), check=True, cwd=ROOT, capture_output=True)
    return out


def ground_truth(city: Path) -> dict:
    return {e["evaluation_id"]: e for e in json.loads((city / "evaluations.json").read_text())["evaluations"]}


def build_requests_mart(city: Path, db: Path) -> duckdb.DuckDBPyConnection:
    with sqlite3.connect(city / "crm311" / "crm.sqlite") as crm:
        raw = pd.read_sql("SELECT service_request_id, service_code, zipcode, status, requested_datetime, "
                          "closed_datetime, expected_datetime, address_id FROM requests", crm)
    con = duckdb.connect(str(db))
    con.execute("CREATE SCHEMA IF NOT EXISTS marts")
    con.register("raw_requests", raw)
    con.execute("""
        CREATE OR REPLACE TABLE marts.fct_service_requests AS
        WITH r AS (
            SELECT service_request_id, service_code, zipcode, status, address_id,
                   strptime(substr(requested_datetime, 1, 19), '%Y-%m-%dT%H:%M:%S') AS requested_at,
                   strptime(substr(closed_datetime, 1, 19), '%Y-%m-%dT%H:%M:%S') AS closed_at,
                   strptime(substr(expected_datetime, 1, 19), '%Y-%m-%dT%H:%M:%S') AS expected_at
            FROM raw_requests)
        SELECT *, (epoch(closed_at) - epoch(requested_at)) / 86400.0 AS days_to_close,
               CASE WHEN closed_at IS NOT NULL THEN closed_at <= expected_at END AS closed_on_time,
               coalesce(requested_at - lag(requested_at) OVER (PARTITION BY address_id, service_code
                        ORDER BY requested_at, service_request_id) <= INTERVAL 30 DAY, false) AS is_repeat_within_30d
        FROM r""")
    con.unregister("raw_requests")
    return con
