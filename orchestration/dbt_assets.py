"""The dbt project as Dagster assets: staging -> intermediate -> marts, keyed and grouped by layer.

* Sources are keyed ``["raw", system, dataset]``, the ingestion's landing assets, so lineage runs unbroken
  from an inventory dataset to the marts; models are ``[layer, model]`` in the group of their layer; dbt
  tests show as asset checks.
* The incremental models (tag ``daily``: the large datasets' base, quarantine and staging models and
  their facts) are daily-partitioned on the records' own updated time. A run passes its partition window as
  dbt ``--vars``; a backfill of many days is one dbt run (``BackfillPolicy.single_run()``). Models upstream
  and downstream of them are unpartitioned and run in their own dbt invocations, so the three groups never
  depend on each other in a cycle.
* Every dbt asset writes the single-writer DuckDB warehouse, so all share the ``warehouse_writer`` pool.
* No dbt parse at import: the manifest is parsed once (``make install``, or the first import on a fresh
  clone) and again only when a file of the dbt project is newer than it.
"""
# No `from __future__ import annotations`: Dagster reads the compute functions' annotations at runtime.
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from functools import cache
from pathlib import Path
from typing import Any

import dagster as dg
from dagster_dbt import DagsterDbtTranslator, DagsterDbtTranslatorSettings, DbtCliResource, DbtProject, dbt_assets
from dagster_dbt.dbt_project import DbtProjectPreparer
from dagster_shared.record import replace

from orchestration.settings import landing_dir
from orchestration.warehouse import WAREHOUSE_POOL, work_db_path

DBT_PROJECT_DIR = Path(__file__).resolve().parent.parent / "dbt_project"
DAILY_SELECTION = "tag:daily"
CITY_TIMEZONE = "America/New_York"
# The demo city's history starts on July 1 three fiscal years before its as-of date (docs/contracts.md).
DAILY_PARTITIONS = dg.DailyPartitionsDefinition(start_date="2023-07-01", timezone=CITY_TIMEZONE)
LAYERS = ("staging", "intermediate", "marts")
AS_OF_ENV = "CITYSTAT_AS_OF"


def dbt_executable() -> str:
    """The dbt next to this interpreter (the venv's), so an unactivated venv (CI, dagster dev) still finds it."""
    beside = Path(sys.executable).with_name("dbt")
    return str(beside) if beside.exists() else (shutil.which("dbt") or "dbt")


class ParseWhenStale(DbtProjectPreparer):
    """Parse the project only when the manifest is missing or older than a file of the project, in
    `dagster dev` and everywhere else (the stock preparer parses on every `dagster dev` load, ~6 s)."""

    def prepare_if_dev(self, project: DbtProject) -> None:
        self.prepare(project)

    def prepare(self, project: DbtProject) -> None:
        if manifest_is_stale(project):
            parse_project(project)


def _project_files(project_dir: Path) -> Iterator[Path]:
    yield project_dir / "dbt_project.yml"
    yield project_dir / "profiles.yml"
    for folder in ("models", "macros", "seeds", "tests", "snapshots"):
        base = project_dir / folder
        if base.is_dir():
            yield from (p for p in base.rglob("*") if p.is_file())


def manifest_is_stale(project: DbtProject) -> bool:
    manifest = project.manifest_path
    if not manifest.exists():
        return True
    built = manifest.stat().st_mtime
    return any(p.stat().st_mtime > built for p in _project_files(Path(project.project_dir)))


def parse_project(project: DbtProject) -> None:
    """`dbt parse`: writes target/manifest.json (seconds; needs no warehouse connection)."""
    result = subprocess.run(
        [dbt_executable(), "parse", "--quiet", "--project-dir", str(project.project_dir),
         "--profiles-dir", str(project.profiles_dir), "--target-path", str(project.target_path)],
        cwd=project.project_dir, env={**os.environ, **dbt_environment()}, capture_output=True, text=True,
    )
    if result.returncode != 0:
        raise RuntimeError(f"dbt parse failed in {project.project_dir}:\n{result.stdout}\n{result.stderr}")


@cache
def dbt_project() -> DbtProject:
    project = replace(DbtProject(project_dir=DBT_PROJECT_DIR, profiles_dir=DBT_PROJECT_DIR), preparer=ParseWhenStale())
    project.prepare_if_dev()
    return project


def dbt_environment() -> dict[str, str]:
    """Absolute warehouse paths for the dbt process (its working directory is the dbt project)."""
    return {"CITYSTAT_WORK_DB": str(work_db_path()), "CITYSTAT_LANDING_DIR": str(landing_dir())}


@contextmanager
def warehouse_environment() -> Iterator[None]:
    """dbt reads its paths from the environment (profiles.yml, sources); set them for one invocation."""
    saved = {key: os.environ.get(key) for key in dbt_environment()}
    os.environ.update(dbt_environment())
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


class CityStatDbtTranslator(DagsterDbtTranslator):
    """Sources -> the ingestion's raw assets; models -> [layer, name] grouped by layer; seeds -> reference."""

    def get_asset_key(self, dbt_resource_props: Mapping[str, Any]) -> dg.AssetKey:
        kind = dbt_resource_props["resource_type"]
        if kind == "source":
            return dg.AssetKey(["raw", dbt_resource_props["source_name"], dbt_resource_props["name"]])
        if kind == "model":
            return dg.AssetKey([model_layer(dbt_resource_props), dbt_resource_props["name"]])
        return dg.AssetKey(["reference", dbt_resource_props["name"]])

    def get_group_name(self, dbt_resource_props: Mapping[str, Any]) -> str | None:
        if dbt_resource_props["resource_type"] == "model":
            return model_layer(dbt_resource_props)
        return "reference"


def model_layer(dbt_resource_props: Mapping[str, Any]) -> str:
    """The models/ folder a model lives in: staging, intermediate or marts."""
    layer = dbt_resource_props["fqn"][1]
    if layer not in LAYERS:
        raise ValueError(f"dbt model {dbt_resource_props['name']} is in models/{layer}/; expected one of {', '.join(LAYERS)}")
    return layer


TRANSLATOR = CityStatDbtTranslator(settings=DagsterDbtTranslatorSettings(enable_asset_checks=True))


def run_vars(window: dg.TimeWindow | None = None) -> dict[str, str]:
    """dbt --vars of a run: the partition window (naive city time, as the warehouse stores it) and as-of."""
    values: dict[str, str] = {}
    if window is not None:
        values["window_start"] = window.start.strftime("%Y-%m-%d %H:%M:%S")
        values["window_end"] = window.end.strftime("%Y-%m-%d %H:%M:%S")
    if os.environ.get(AS_OF_ENV):
        values["as_of"] = os.environ[AS_OF_ENV]
    return values


FULL_REFRESH_TAG = "citystat/full_refresh"  # set by `citystat run --full-refresh`


def _build(context: dg.AssetExecutionContext, dbt: DbtCliResource):
    args = ["build"]
    if context.run.tags.get(FULL_REFRESH_TAG) == "true":
        args.append("--full-refresh")
    if variables := run_vars(context.partition_time_window if context.has_partition_key else None):
        args += ["--vars", json.dumps(variables)]
    with warehouse_environment():
        yield from dbt.cli(args, context=context).stream()


def build_dbt_assets() -> list[dg.AssetsDefinition]:
    manifest = json.loads(dbt_project().manifest_path.read_text())  # read once for the three ops

    @dbt_assets(
        manifest=manifest, project=dbt_project(), dagster_dbt_translator=TRANSLATOR,
        name="dbt_upstream", exclude=f"{DAILY_SELECTION}+", pool=WAREHOUSE_POOL,
    )
    def dbt_upstream(context: dg.AssetExecutionContext, dbt: DbtCliResource):
        """Seeds, reference staging and dimensions the daily models read."""
        yield from _build(context, dbt)

    @dbt_assets(
        manifest=manifest, project=dbt_project(), dagster_dbt_translator=TRANSLATOR,
        name="dbt_daily", select=DAILY_SELECTION, pool=WAREHOUSE_POOL,
        partitions_def=DAILY_PARTITIONS, backfill_policy=dg.BackfillPolicy.single_run(),
    )
    def dbt_daily(context: dg.AssetExecutionContext, dbt: DbtCliResource):
        """Incremental models of the large datasets, for the records updated in the partition's days."""
        yield from _build(context, dbt)

    @dbt_assets(
        manifest=manifest, project=dbt_project(), dagster_dbt_translator=TRANSLATOR,
        name="dbt_downstream", select=f"{DAILY_SELECTION}+", exclude=DAILY_SELECTION, pool=WAREHOUSE_POOL,
    )
    def dbt_downstream(context: dg.AssetExecutionContext, dbt: DbtCliResource):
        """Marts and KPI values built on the daily facts."""
        yield from _build(context, dbt)

    return [dbt_upstream, dbt_daily, dbt_downstream]


def dbt_resource() -> DbtCliResource:
    return DbtCliResource(project_dir=dbt_project(), profiles_dir=str(DBT_PROJECT_DIR), dbt_executable=dbt_executable())


DBT_ASSETS = build_dbt_assets()
DBT_RESOURCES = {"dbt": dbt_resource()}


if __name__ == "__main__":  # `python -m orchestration.dbt_assets`: parse now (make install, CI)
    parse_project(dbt_project())
    print(f"dbt manifest: {dbt_project().manifest_path}")
