"""No partitions: an ordinary run after new loads processes exactly the new batches (records it already holds
in their current version are not recomputed) and ends with the tables a full refresh builds, including status
changes to old records; a rerun changes nothing; a reprocessing window (`reprocess_from` / `reprocess_to`, the
dbt asset's run config) rebuilds the records whose own time falls in it, and only those."""
from __future__ import annotations

import json
import os
import shutil
import subprocess

import duckdb
import pytest

from demo_city.generator import advance
from dbt_helpers import Warehouse, dbt, land, table_differences
from citystat.settings import dbt_executable
from orchestration.defs.dbt.assets import DbtBuildConfig, build_vars
from orchestration.lib.dbt_project import DBT_PROJECT_DIR

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

    advance(city, days=2)  # to Monday 2 November: the code-enforcement drop folders get their weekday exports too
    landed = land(city, incremental.landing)
    assert landed[("crm311", "service_requests")] > 0 and landed[("pw_mms", "work_orders")] > 0
    assert landed[("ce_vacant", "cases")] > 0 and landed[("ce_vacant", "inspections")] > 0
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


@pytest.mark.timeout(900)
def test_an_incremental_base_model_whose_columns_changed_stops_until_a_full_refresh(built, tmp_path):
    """A base model that gains a column (an inventory field it now maps) does not go on appending rows beside old
    ones that lack it: its incremental run fails, naming the full refresh, and `--full-refresh` rebuilds it whole."""
    project = tmp_path / "dbt_project"
    shutil.copytree(DBT_PROJECT_DIR, project, ignore=shutil.ignore_patterns("target", "logs", "dbt_packages"))
    model = project / "models" / "staging" / "ce_vacant" / "base" / "base_ce_vacant__cases.sql"
    mapped = "{{ clean_text('inspector_id') }} as inspector_id,"
    text = model.read_text(encoding="utf-8")
    assert text.count(mapped) == 1
    model.write_text(text.replace(mapped, mapped + " {{ clean_text('inspector_id') }} as assigned_inspector_id,"),
                     encoding="utf-8")
    db = tmp_path / "work.duckdb"
    shutil.copy(built.db, db)
    env = {**os.environ, "CITYSTAT_LANDING_DIR": str(built.landing), "CITYSTAT_WORK_DB": str(db)}

    def run(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([dbt_executable(), "run", "--select", "base_ce_vacant__cases", *args, "--profiles-dir", ".",
                               "--target-path", str(tmp_path / "target"), "--log-path", str(tmp_path / "logs")],
                              cwd=project, env=env, capture_output=True, text=True, timeout=600)

    with duckdb.connect(str(db), read_only=True) as con:
        cases = con.execute("SELECT count(*) FROM staging.base_ce_vacant__cases").fetchone()[0]
    stopped = run()
    assert stopped.returncode == 1
    assert "full_refresh" in stopped.stdout and "out of sync" in stopped.stdout
    rebuilt = run("--full-refresh")
    assert rebuilt.returncode == 0, rebuilt.stdout[-3000:]
    with duckdb.connect(str(db), read_only=True) as con:
        assert con.execute("SELECT count(*), count(*) FILTER (WHERE assigned_inspector_id IS NOT DISTINCT FROM inspector_id) "
                           "FROM staging.base_ce_vacant__cases").fetchone() == (cases, cases)
