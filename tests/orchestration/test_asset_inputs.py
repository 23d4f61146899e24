"""orchestration/lib/asset_inputs.py on real Dagster runs against a real DuckDB file: an asset computes again exactly
when something it reads was rebuilt, its last attempt failed or its record cannot be trusted (fail closed).

`source` stands for a dbt model: a run either rebuilds it (writes a new value) or reports it as a daily build that
left it out does (`citystat/unchanged`). `metric` copies it through run_unless_unchanged. Whether `metric` did its
work is read from each run's own materialization, never from time.
"""
# No `from __future__ import annotations`: Dagster reads the assets' annotations at runtime.

import dagster as dg
import pytest
from dagster_duckdb import DuckDBResource

from orchestration.lib.asset_inputs import run_unless_unchanged
from orchestration.lib.dbt_inputs import UNCHANGED
from orchestration.lib.instance import instance_config, open_instance


class SourceConfig(dg.Config):
    value: int = 0
    rebuilt: bool = True


class MetricConfig(dg.Config):
    fail: bool = False


@dg.asset(key=["marts", "source"])
def source(config: SourceConfig, warehouse: DuckDBResource) -> dg.MaterializeResult:
    if not config.rebuilt:
        return dg.MaterializeResult(metadata={UNCHANGED: True})
    with warehouse.get_connection() as con:
        con.execute("create or replace table source as select ? as value", [config.value])
    return dg.MaterializeResult()


@dg.asset(key=["metrics", "metric"], deps=[source])
def metric(context: dg.AssetExecutionContext, config: MetricConfig, warehouse: DuckDBResource) -> dg.MaterializeResult:
    def work() -> dg.MaterializeResult:
        with warehouse.get_connection() as con:
            con.execute("create or replace table metric as select value * 10 as value from source")
            if config.fail:
                raise RuntimeError("the metric failed after writing part of its work")
        return dg.MaterializeResult()
    return run_unless_unchanged(context, warehouse, work)


def run(instance, db, value: int | None, fail: bool = False) -> tuple[bool, str]:
    """One run of both assets (value None: `source` reported unchanged); -> (metric skipped, why)."""
    config = {"ops": {"marts__source": {"config": {"value": value or 0, "rebuilt": value is not None}},
                      "metrics__metric": {"config": {"fail": fail}}}}
    result = dg.materialize([source, metric], instance=instance, run_config=config, raise_on_error=False,
                            resources={"warehouse": DuckDBResource(database=str(db))})
    if fail:
        assert not result.success
        return False, ""
    assert result.success
    [event] = [e for e in result.get_asset_materialization_events() if e.asset_key == dg.AssetKey(["metrics", "metric"])]
    metadata = event.materialization.metadata
    skipped = bool(getattr(metadata.get(UNCHANGED), "value", False))
    return skipped, metadata["recomputed_because"].value


def project_instance(home):
    """The instance every citystat entry point opens (its dagster.yaml and event log storage)."""
    home.mkdir(exist_ok=True)
    (home / "dagster.yaml").write_text(instance_config(home))
    return open_instance(home)


def table_value(db) -> int:
    # Through the resource, as the steps connect: a failed in-process step may still hold its connection open.
    with DuckDBResource(database=str(db)).get_connection() as con:
        return con.execute("select value from metric").fetchone()[0]


@pytest.mark.timeout(300)
def test_a_metric_computes_again_only_when_its_inputs_changed_or_it_cannot_tell(tmp_path):
    db = tmp_path / "work.duckdb"
    with project_instance(tmp_path / "dagster") as instance:
        assert run(instance, db, 1) == (False, "no record of a successful computation")
        assert table_value(db) == 10
        assert run(instance, db, None) == (True, "not recomputed: inputs unchanged")
        assert run(instance, db, None)[0] is True  # a chain of days without change
        assert run(instance, db, 2) == (False, "marts/source: rebuilt")
        assert table_value(db) == 20

        # A failed attempt forgets the record: the next run computes even though nothing upstream changed.
        run(instance, db, 3, fail=True)
        assert run(instance, db, None) == (False, "no record of a successful computation")
        assert table_value(db) == 30
        assert run(instance, db, None)[0] is True

    # The same warehouse with a new Dagster instance (its storage ids start again): the history is not followed.
    with project_instance(tmp_path / "dagster-new") as instance:
        skipped, why = run(instance, db, None)
        assert not skipped and why == "marts/source: its recorded materialization is not in this instance's history"

    # A warehouse built again from nothing: its models are rebuilt (and its records may be gone), so it computes.
    db.unlink()
    with project_instance(tmp_path / "dagster-new") as instance:
        assert run(instance, db, 4)[0] is False
        assert table_value(db) == 40
