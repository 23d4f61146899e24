"""An incremental run after new loads ends with exactly the tables a full refresh builds, including status changes
to old records; rerunning (or backfilling an old partition) changes nothing."""
from __future__ import annotations

import json
import shutil

import duckdb

from demo_city.generator import advance
from dbt_helpers import Warehouse, dbt, land, table_differences

NEW_DAY = {"window_start": "2026-11-01 00:00:00", "window_end": "2026-11-02 00:00:00"}  # the Dagster partition of the new day
OLD_DAY = {"window_start": "2024-02-01 00:00:00", "window_end": "2024-02-02 00:00:00"}  # a backfill of a long-past partition
COMPARED = ("marts", "quality", "staging")


def test_incremental_after_advance_equals_full_refresh_and_reruns_change_nothing(dbt_city, built, tmp_path):
    city = tmp_path / "city"
    shutil.copytree(dbt_city, city)
    incremental = Warehouse(landing=tmp_path / "landing", db=tmp_path / "incremental.duckdb", target=tmp_path / "target_incremental")
    shutil.copytree(built.landing, incremental.landing)
    shutil.copy(built.db, incremental.db)

    advance(city, days=1)
    landed = land(city, incremental.landing)
    assert landed[("crm311", "service_requests")] > 0 and landed[("pw_mms", "work_orders")] > 0
    with duckdb.connect() as con:
        old_records_changed = con.execute(
            f"SELECT count(*) FROM read_parquet('{incremental.landing}/crm311/service_requests/*.parquet', union_by_name = true) "
            "WHERE _load_id = (SELECT max(_load_id) FROM read_parquet(?, union_by_name = true)) "
            "AND requested_datetime < '2026-11-01'",
            [f"{incremental.landing}/crm311/service_requests/*.parquet"],
        ).fetchone()[0]
    assert old_records_changed > 0  # the new batch updates requests filed before the new day

    dbt(incremental, "build", "--vars", json.dumps(NEW_DAY))

    full = Warehouse(landing=incremental.landing, db=tmp_path / "full.duckdb", target=tmp_path / "target_full")
    dbt(full, "build", "--exclude-resource-type", "test", "--exclude-resource-type", "unit_test")
    assert table_differences(incremental.db, full.db, COMPARED) == {}

    before = tmp_path / "before_rerun.duckdb"
    shutil.copy(incremental.db, before)
    dbt(incremental, "run", "--vars", json.dumps(NEW_DAY))
    dbt(incremental, "run", "--vars", json.dumps(OLD_DAY))
    assert table_differences(before, incremental.db, COMPARED) == {}
