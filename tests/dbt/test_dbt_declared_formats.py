"""The dbt macro `to_declared` reads values the way the inventory's field `format` declares (the staging side of
citystat.quality.landed.typed_sql): compiled and run by the real dbt on DuckDB (`dbt show --inline`)."""
from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from citystat.settings import dbt_executable

ROOT = Path(__file__).resolve().parents[2]

CASES = """
select
    {{ to_declared("'05/01/2022 12:00:03 PM'", 'datetime', {'datetime': '%m/%d/%Y %I:%M:%S %p'}) }} as nyc_created,
    {{ to_declared("'2022-05-01 12:00:03'", 'datetime', {'datetime': '%m/%d/%Y %I:%M:%S %p'}) }} as nyc_wrong_format,
    {{ to_declared("'2022-05-01 08:01:00'", 'datetime', {'datetime': '%Y-%m-%d %H:%M:%S', 'timezone': 'America/Chicago'}) }} as chicago,
    {{ to_declared("'(1,250.50)'", 'number', {'negative_parentheses': true}) }} as parentheses,
    {{ to_declared("'1.234,56'", 'number', {'decimal_separator': ',', 'thousands_separator': '.'}) }} as decimal_comma,
    {{ to_declared("'ONTIME'", 'boolean', {'code_map': {'ONTIME': true, 'OVERDUE': false}}) }} as ontime,
    {{ to_declared("'OVERDUE'", 'boolean', {'code_map': {'ONTIME': true, 'OVERDUE': false}}) }} as overdue,
    {{ to_declared("'LATE'", 'boolean', {'code_map': {'ONTIME': true, 'OVERDUE': false}}) }} as unknown_code,
    {{ to_declared("'Y'", 'boolean', {'true_values': ['Y'], 'false_values': ['N']}) }} as yes,
    {{ to_declared("'N'", 'boolean', {'true_values': ['Y']}) }} as only_true_declared,
    {{ to_declared("'O''Brien'", 'string', {'code_map': {"O'Brien": 'obrien'}}) }} as quoted_code
"""


@pytest.mark.timeout(300)
def test_declared_formats_in_dbt_staging(tmp_path):
    env = {**os.environ, "CITYSTAT_WORK_DB": str(tmp_path / "work.duckdb"), "CITYSTAT_LANDING_DIR": str(tmp_path / "landing"),
           "DBT_SEND_ANONYMOUS_USAGE_STATS": "false"}
    result = subprocess.run([dbt_executable(), "show", "--inline", CASES, "--output", "json", "--log-format", "json",
                             "--profiles-dir", ".", "--target-path", str(tmp_path / "target"), "--log-path", str(tmp_path / "logs")],
                            cwd=ROOT / "dbt_project", env=env, capture_output=True, text=True, timeout=280)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    preview = next(json.loads(line)["data"]["preview"] for line in result.stdout.splitlines()
                   if line.startswith("{") and "preview" in json.loads(line).get("data", {}))
    (row,) = json.loads(preview)
    assert row["nyc_created"].startswith("2022-05-01T12:00:03")
    assert row["nyc_wrong_format"] is None  # not the declared format: NULL, so quarantined as uncastable
    assert row["chicago"].startswith("2022-05-01T09:01:00")  # 08:01 Chicago is 09:01 in the city's zone, by hand
    assert (row["parentheses"], row["decimal_comma"]) == (-1250.5, 1234.56)
    assert (row["ontime"], row["overdue"], row["unknown_code"], row["yes"]) == (True, False, None, True)
    assert row["only_true_declared"] is None
    assert row["quoted_code"] == "obrien"  # a quote in a code reaches SQL only through sql_literal
