"""The SQLite event log `dagster.yaml` names (orchestration/lib/event_log.py) records what Dagster's own one records.

A small real job (three assets, two checks, one failing) runs in-process on two real instances: one with the
project's dagster.yaml (kept connections, batched planned events, synchronous=NORMAL), one with Dagster's plain
SQLite storage. The two event logs and the cross-run index must say the same; a forked child writes to the same
storage; a batch that fails leaves nothing behind.
"""
import os
from collections import Counter

import dagster as dg
import pytest

pytestmark = pytest.mark.timeout(300)


@dg.asset
def landed() -> int:
    return 3


@dg.asset
def staged(landed: int) -> int:
    return landed * 2


@dg.asset(deps=[staged])
def published() -> None:
    return None


@dg.asset_check(asset=staged)
def staged_positive(staged: int) -> dg.AssetCheckResult:
    return dg.AssetCheckResult(passed=staged > 0)


@dg.asset_check(asset=landed)
def landed_large(landed: int) -> dg.AssetCheckResult:
    return dg.AssetCheckResult(passed=landed > 100, description="fewer than 100 rows")


DEFS = dg.Definitions(assets=[landed, staged, published], asset_checks=[staged_positive, landed_large])


def _instance(home, project_config: bool, monkeypatch):
    from dagster._core.instance.ref import InstanceRef

    from orchestration.lib.instance import dagster_home

    monkeypatch.setenv("DAGSTER_HOME", str(home))
    monkeypatch.delenv("CITYSTAT_DAGSTER_POSTGRES_URL", raising=False)
    monkeypatch.delenv("DAGSTER_EVENT_BATCH_SIZE", raising=False)
    if project_config:
        monkeypatch.delenv("CITYSTAT_FAST_EVENT_LOG", raising=False)  # the project's event log is the default
        dagster_home()  # writes the project's dagster.yaml, sets DAGSTER_EVENT_BATCH_SIZE
    else:
        home.mkdir(parents=True)
    return dg.DagsterInstance.from_ref(InstanceRef.from_dir(str(home)))


def _summary(instance, run_id):
    records = instance.get_records_for_run(run_id, limit=100_000).records
    kinds = Counter(r.event_log_entry.dagster_event.event_type_value for r in records if r.event_log_entry.dagster_event)
    latest = {key.to_user_string(): instance.get_latest_materialization_event(key) is not None
              for key in (dg.AssetKey("landed"), dg.AssetKey("staged"), dg.AssetKey("published"))}
    checks = {}
    for check in ("staged_positive", "landed_large"):
        asset = "staged" if check == "staged_positive" else "landed"
        history = instance.event_log_storage.get_asset_check_execution_history(dg.AssetCheckKey(dg.AssetKey(asset), check), limit=5)
        checks[check] = [(h.run_id == run_id, h.status.value) for h in history]
    return kinds, latest, checks


@pytest.mark.timeout(30)
def test_the_project_event_log_is_the_default_and_can_be_turned_off(tmp_path, monkeypatch):
    from orchestration.lib.instance import instance_config

    monkeypatch.delenv("CITYSTAT_DAGSTER_POSTGRES_URL", raising=False)
    monkeypatch.delenv("CITYSTAT_FAST_EVENT_LOG", raising=False)
    assert "class: CityStatSqliteEventLogStorage" in instance_config(tmp_path)
    monkeypatch.setenv("CITYSTAT_FAST_EVENT_LOG", "0")
    assert "event_log_storage" not in instance_config(tmp_path)


def test_the_project_event_log_records_what_dagsters_sqlite_log_records(tmp_path, monkeypatch):
    from orchestration.lib.event_log import CityStatSqliteEventLogStorage

    summaries = []
    for project_config in (True, False):
        with _instance(tmp_path / f"home-{project_config}", project_config, monkeypatch) as instance:
            assert isinstance(instance.event_log_storage, CityStatSqliteEventLogStorage) is project_config
            result = dg.materialize([landed, staged, published, staged_positive, landed_large], instance=instance,
                                    raise_on_error=False)
            assert result.success
            summaries.append(_summary(instance, result.run_id))
    kinds, latest, checks = summaries[0]
    assert summaries[0] == summaries[1]
    # by hand: 3 assets and 2 checks planned, 3 materializations, 2 evaluations; each check's one execution, in this run
    assert kinds["ASSET_MATERIALIZATION_PLANNED"] == 3 and kinds["ASSET_CHECK_EVALUATION_PLANNED"] == 2
    assert kinds["ASSET_MATERIALIZATION"] == 3 and kinds["ASSET_CHECK_EVALUATION"] == 2
    assert latest == {"landed": True, "staged": True, "published": True}
    assert checks == {"staged_positive": [(True, "SUCCEEDED")], "landed_large": [(True, "FAILED")]}


def test_a_forked_child_writes_and_a_failed_batch_leaves_nothing(tmp_path, monkeypatch):
    from dagster._core.events.log import EventLogEntry

    with _instance(tmp_path / "home", True, monkeypatch) as instance:
        run = instance.create_run_for_job(dg.GraphDefinition(name="g", node_defs=[]).to_job(name="forked"))
        instance.report_engine_event("before the fork", run)
        pid = os.fork()
        if pid == 0:  # the child: its own instance on the same files, as the run worker opens one
            code = 1
            try:
                with dg.DagsterInstance.from_ref(instance.get_ref()) as child:
                    child.report_engine_event("from the child", run)
                code = 0
            finally:
                os._exit(code)
        _, status = os.waitpid(pid, 0)
        assert os.waitstatus_to_exitcode(status) == 0
        instance.report_engine_event("after the fork", run)
        messages = [r.event_log_entry.dagster_event.message for r in instance.get_records_for_run(run.run_id).records]
        assert messages[-3:] == ["before the fork", "from the child", "after the fork"]

        storage = instance.event_log_storage
        entry = EventLogEntry(error_info=None, level=20, user_message="in a batch", run_id=run.run_id,
                              timestamp=1.0, dagster_event=None)
        write, calls = storage.store_event, []

        def third_write_fails(event):  # a disk that fills up in the middle of a batch
            calls.append(event)
            if len(calls) == 3:
                raise OSError("disk full")
            write(event)

        monkeypatch.setattr(storage, "store_event", third_write_fails)
        with pytest.raises(OSError):
            storage.store_event_batch([entry, entry, entry])
        assert len(calls) == 3 and len(instance.get_records_for_run(run.run_id).records) == 3  # none of the batch
        monkeypatch.setattr(storage, "store_event", write)
        storage.store_event_batch([entry, entry])
        assert len(instance.get_records_for_run(run.run_id).records) == 5
