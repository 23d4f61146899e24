"""The dbt project for Dagster: the lazily prepared ``DbtProject`` and the translator (keys, groups, automation).

* Sources are keyed ``["raw", system, dataset]``, the ingestion's landing assets, so lineage runs unbroken
  from an inventory dataset to the marts; models are ``[layer, model]`` in the group of their layer; dbt
  tests show as asset checks.
* Every model follows its inputs (``WAREHOUSE_AUTOMATION``, set here in the translator).
* No dbt parse at import: the manifest is parsed once (``make install``, or the first import on a fresh
  clone) and again only when a file of the dbt project is newer than it.
"""
# No `from __future__ import annotations`: Dagster reads the compute functions' annotations at runtime.
import os
import subprocess
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from functools import cache
from pathlib import Path
from typing import Any

import dagster as dg

from orchestration.lib.no_dbt_core import dbt_core_hidden

with dbt_core_hidden():
    from dagster_dbt import DagsterDbtTranslator, DagsterDbtTranslatorSettings, DbtProject
    from dagster_dbt.dbt_project import DbtProjectPreparer
from dagster_shared.record import replace

from orchestration.lib.automation import WAREHOUSE_AUTOMATION

from citystat.settings import DBT_AS_OF_ENV, as_of, dbt_executable, dbt_project_dir, landing_dir
from citystat.warehouse import work_db_path

DBT_PROJECT_DIR = dbt_project_dir()  # the city's generated copy when $CITYSTAT_INVENTORY names another inventory
LAYERS = ("staging", "intermediate", "marts")


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
    """Absolute warehouse paths for the dbt process (its working directory is the dbt project), and the as-of
    date (empty for live data, so a value left in the caller's environment never reaches dbt)."""
    day = as_of()
    return {"CITYSTAT_WORK_DB": str(work_db_path()), "CITYSTAT_LANDING_DIR": str(landing_dir()),
            DBT_AS_OF_ENV: day.isoformat() if day else ""}


def build_environment() -> dict[str, str]:
    """dbt_environment, plus the postgres target and its connection (DBT_TARGET, CITYSTAT_PG_*) when the warehouse
    is on PostgreSQL (CITYSTAT_WAREHOUSE_POSTGRES_URL)."""
    from citystat.postgres_warehouse import configured_url, dbt_postgres_env

    url = configured_url()
    return {**dbt_environment(), **(dbt_postgres_env(url) if url else {})}


@contextmanager
def warehouse_environment() -> Iterator[None]:
    """dbt reads its paths and target from the environment (profiles.yml, sources); set them for one invocation."""
    environment = build_environment()
    saved = {key: os.environ.get(key) for key in environment}
    os.environ.update(environment)
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

    def get_automation_condition(self, dbt_resource_props: Mapping[str, Any]) -> dg.AutomationCondition | None:
        """Every model and seed follows its inputs: new landing batches flow on to the marts with no command."""
        return WAREHOUSE_AUTOMATION


def model_layer(dbt_resource_props: Mapping[str, Any]) -> str:
    """The models/ folder a model lives in: staging, intermediate or marts."""
    layer = dbt_resource_props["fqn"][1]
    if layer not in LAYERS:
        raise ValueError(f"dbt model {dbt_resource_props['name']} is in models/{layer}/; expected one of {', '.join(LAYERS)}")
    return layer


TRANSLATOR = CityStatDbtTranslator(settings=DagsterDbtTranslatorSettings(enable_asset_checks=True))


if __name__ == "__main__":  # `python -m orchestration.lib.dbt_project`: parse now (make install, CI)
    parse_project(dbt_project())
    print(f"dbt manifest: {dbt_project().manifest_path}")
