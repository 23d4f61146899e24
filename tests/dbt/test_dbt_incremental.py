"""No partitions: an ordinary run after new loads processes exactly the new batches (records it already holds
in their current version are not recomputed) and ends with the tables a full refresh builds, including status
changes to old records; a rerun changes nothing; a reprocessing window (`reprocess_from` / `reprocess_to`, the
dbt asset's run config) rebuilds the records whose own time falls in it, and only those."""
from __future__ import annotations

import json
import shutil

import duckdb
import pytest

from demo_city.generator import advance
from dbt_helpers import Warehouse, dbt, land, table_differences
from orchestration.defs.dbt.assets import DbtBuildConfig, build_vars

COMPARED = ("marts", "quality", "staging")
SENTINEL = 499.125  # labour hours no work order has: a row held, not recomputed


def reprocess_vars(day: str) -> str:
    """The dbt --vars of a Dagster run configured to reprocess one day (DbtBuildConfig -> build_vars)."""
    return json.dumps(build_vars(DbtBuildConfig(reprocess_from=day, reprocess_to=day)))


@pytest.mark.slow
@pytest.mark.timeout(1800)
def test_an_ordinary_run_processes_exactly_the_new_batches_and_a_window_rebuilds_its_records(dbt_city, built, tmp_path,
                                                                                            monkeypatch):
    monkeypatch.delenv("CITYSTAT_AS_OF", raising=False)  # the runs below pass a window only, like the session build
    monkeypatch.setenv("CITYSTAT_DATA_DIR", str(tmp_path / "no_city"))
    city = tmp_path / "city"
    shutil.copytree(dbt_city, city)
    incremental = Warehouse(landing=tmp_path / "landing", db=tmp_path / "incremental.duckdb", target=tmp_path / "target_incremental")
    shutil.copytree(built.landing, incremental.landing)
    shutil.copy(built.db, incremental.db)

    advance(city, days=1)
    landed = land(city, incremental.landing)
    assert landed[("crm311", "service_requests")] > 0 and landed[("pw_mms", "work_orders")] > 0
    requests = f"{incremental.landing}/crm311/service_requests/*.parquet"
    work_orders = f"{incremental.landing}/pw_mms/work_orders/*.parquet"
    with duckdb.connect() as con:
        old_records_changed = con.execute(
            f"SELECT count(*) FROM read_parquet('{requests}', union_by_name = true) "
            f"WHERE _load_id = (SELECT max(_load_id) FROM read_parquet('{requests}', union_by_name = true)) "
            "AND requested_datetime < '2026-11-01'").fetchone()[0]
        new_work_orders = {r[0] for r in con.execute(
            f"SELECT DISTINCT work_order_id FROM read_parquet('{work_orders}', union_by_name = true) "
            f"WHERE _load_id = (SELECT max(_load_id) FROM read_parquet('{work_orders}', union_by_name = true))").fetchall()}
    assert old_records_changed > 0  # the new batch updates requests filed before the new day

    # Mark two old work orders the new batches do not touch, last updated on two different days: a run that
    # recomputed them would overwrite the mark (labour hours no other model reads), a run that left them alone keeps it.
    with duckdb.connect(str(incremental.db)) as con:
        assert con.execute("SELECT count(*) FROM marts.fct_work_orders WHERE labor_hours = ?", [SENTINEL]).fetchone()[0] == 0
        candidates = con.execute(
            "SELECT work_order_id, cast(updated_at AS date) FROM marts.fct_work_orders "
            "WHERE updated_at BETWEEN '2025-01-01' AND '2025-12-31' ORDER BY updated_at, work_order_id").fetchall()
        candidates = [(i, d) for i, d in candidates if i not in new_work_orders]
        first = candidates[0]
        second = next((i, d) for i, d in candidates if d > first[1])
        marked = {first[0]: first[1], second[0]: second[1]}
        con.execute("UPDATE marts.fct_work_orders SET labor_hours = ? WHERE work_order_id IN (SELECT unnest(?::VARCHAR[]))",
                    [SENTINEL, list(marked)])

    def still_marked() -> set[str]:
        with incremental.connect() as con:
            return {r[0] for r in con.execute("SELECT work_order_id FROM marts.fct_work_orders WHERE labor_hours = ?",
                                              [SENTINEL]).fetchall()}

    assert still_marked() == set(marked)
    dbt(incremental, "build")  # an ordinary run: no window, what landed since the last run

    full = Warehouse(landing=incremental.landing, db=tmp_path / "full.duckdb", target=tmp_path / "target_full")
    dbt(full, "build", "--exclude-resource-type", "test", "--exclude-resource-type", "unit_test")
    # everything new (and every status change to an old record) is in; the marked lines were not recomputed
    assert still_marked() == set(marked)
    assert table_differences(incremental.db, full.db, COMPARED) == {"marts.fct_work_orders": (2, 2)}

    before = tmp_path / "before_rerun.duckdb"
    shutil.copy(incremental.db, before)
    dbt(incremental, "run")  # nothing new: nothing changes
    assert table_differences(before, incremental.db, COMPARED) == {}

    dbt(incremental, "run", "--vars", reprocess_vars(first[1].isoformat()))  # reprocess the day the first was last updated
    assert still_marked() == {second[0]}
    assert table_differences(incremental.db, full.db, COMPARED) == {"marts.fct_work_orders": (1, 1)}

    dbt(incremental, "run", "--vars", reprocess_vars(second[1].isoformat()))
    assert still_marked() == set()
    assert table_differences(incremental.db, full.db, COMPARED) == {}
