"""Shared test helpers: run rows through the real validation, preparation and status engine; the demo city's
warehouse and the metrics assets run on it."""
import datetime as dt
import importlib.util
import sys
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pytest

from citystat.kpi import series, status


def run_engine(rows: list[dict], registry=None, score_cap: float = status.DEFAULT_SCORE_CAP) -> pd.DataFrame:
    prepared = series.prepare(series.records_from_frame(pd.DataFrame(rows)), registry)
    return status.evaluate(prepared, score_cap=score_cap)


def row_of(table: pd.DataFrame, kpi_id: str, period: str) -> dict:
    match = table[(table["kpi_id"] == kpi_id) & (table["period"] == period)]
    assert len(match) == 1, f"{kpi_id} {period}: {len(match)} rows"
    return match.iloc[0].to_dict()


def monthly(kpi_id: str, start: str, values: list, **columns) -> list[dict]:
    """Consecutive monthly rows from ``start`` (YYYY-MM); None values are kept as missing."""
    year, month = map(int, start.split("-"))
    rows = []
    for value in values:
        rows.append({"kpi_id": kpi_id, "period": f"{year:04d}-{month:02d}", "value": value, **columns})
        month += 1
        if month == 13:
            year, month = year + 1, 1
    return rows


# ---- the demo city -------------------------------------------------------------------------------------------

DEMO_AS_OF = dt.date(2026, 10, 31)


def dbt_helpers():
    """tests/dbt/dbt_helpers.py: landing a city with the real connectors and running the real dbt (reused, not copied)."""
    path = Path(__file__).resolve().parents[1] / "dbt" / "dbt_helpers.py"
    spec = importlib.util.spec_from_file_location("kpi_dbt_helpers", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up
    spec.loader.exec_module(module)
    return module


@dataclass(frozen=True)
class DemoWarehouse:
    city: Path
    db: Path  # the working warehouse (named work.duckdb, as in production: the semantic manifest's relations say "work")
    target: Path  # dbt's artefacts of the build, semantic_manifest.json included
    warehouse_dir: Path  # CITYSTAT_WAREHOUSE_DIR for the metrics assets (memos, the office's flag CSV)


def swing_month(demo: DemoWarehouse) -> str:
    """The month of the generator's planted library swing."""
    from demo_city.generator import load_context
    from demo_city.systems.performance_office import swing_period

    return swing_period(load_context(demo.city))


@dataclass
class MetricsRun:
    result: object  # dagster ExecuteInProcessResult

    def metadata(self, key: str) -> dict:
        [event] = [e for e in self.result.get_asset_materialization_events() if e.asset_key.path == ["metrics", key]]
        return {k: v.value for k, v in event.materialization.metadata.items()}

    def check(self, name: str):
        [evaluation] = [c for c in self.result.get_asset_check_evaluations() if c.check_name == name]
        return evaluation


def materialize_metrics(demo: DemoWarehouse) -> MetricsRun:
    """The KPI metrics assets as `citystat run` runs them: the `warehouse` resource on the working warehouse, the
    as-of date and warehouse folder from the environment."""
    import dagster as dg
    from dagster_duckdb import DuckDBResource

    from orchestration.defs.metrics.kpi import METRICS_ASSETS

    with pytest.MonkeyPatch.context() as env:
        env.setenv("CITYSTAT_AS_OF", DEMO_AS_OF.isoformat())
        env.setenv("CITYSTAT_WAREHOUSE_DIR", str(demo.warehouse_dir))
        env.setenv("CITYSTAT_WORK_DB", str(demo.db))
        env.delenv("CITYSTAT_FLAG_ACTIONS", raising=False)
        result = dg.materialize(METRICS_ASSETS, resources={"warehouse": DuckDBResource(database=str(demo.db))})
    assert result.success
    return MetricsRun(result)
