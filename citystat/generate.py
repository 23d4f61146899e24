"""`citystat generate [--check]`: every file generated from the data inventory and the KPI registry.

* the dbt sources, one ``dbt_project/models/staging/<system>/_<system>__sources.yml`` per landed system
  (citystat.dbt_sources);
* the Great Expectations suites ``expectations/suites/*.json`` (citystat.quality.suite_generation);
* the semantic-layer metrics ``dbt_project/models/marts/semantic/_kpi_metrics.yml`` (citystat.kpi.semantic);
* the staging of every dataset that declares the canonical entity it implements, and each entity's union model
  (citystat.entity_models).

With ``$CITYSTAT_INVENTORY`` naming another city's inventory, the dbt files go to that city's copy of the project
(``<warehouse>/dbt_project``, refreshed from the shipped one), and the shipped files are left alone.

Run it after editing the inventory, the KPI registry or a rules file. ``--check`` writes nothing and exits 1
naming every stale file, so CI (tests/test_generated_files.py) fails until the files are regenerated.
"""
from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

import typer

from citystat.settings import another_city, dbt_project_dir, project_root, shipped_dbt_project_dir

FIX = "citystat generate"


@dataclass(frozen=True)
class Plan:
    """What the generated files should be: their text by path, and generated files no longer produced."""
    files: dict[Path, str]
    orphans: list[Path]

    def stale(self) -> list[Path]:
        return sorted(p for p, text in self.files.items() if not p.is_file() or p.read_text(encoding="utf-8") != text)


def plan() -> Plan:
    """Every generated file in memory (reads the inventory, the registry and the rules; writes nothing).

    With another city's inventory ($CITYSTAT_INVENTORY) its dbt project (sources, entity models and the files
    citystat.city_project changes, in ``<warehouse>/dbt_project``) and its GX suites (``<warehouse>/expectations``)."""
    from citystat import city_project, dbt_sources, entity_models
    from citystat.kpi import semantic
    from citystat.quality import suite_generation
    from citystat.quality.suites import suites_dir

    project = dbt_project_dir()
    city = another_city()
    files = {**dbt_sources.source_files(), **entity_models.model_files(project)}
    candidates = entity_models.generated_models(project) if project.is_dir() else []
    files.update(suite_generation.suite_files())  # a city's into its own folder (suites_dir)
    candidates += list(suites_dir().glob("*.json"))
    if city:  # the demo systems it lacks read as empty; its own departments, their KPIs and metrics
        files = {**city_project.city_files(project), **files}
    else:
        files.update(semantic.metrics_files())
        # files a generator wrote once and no longer produces (a dataset or a rules file removed)
        candidates += [p for p in dbt_sources.staging_dir().glob("*/_*__sources.yml")
                       if p.read_text(encoding="utf-8").startswith(dbt_sources.HEADER)]
    return Plan(files=files, orphans=sorted(p for p in candidates if p not in files))


def copy_shipped_project(target: Path) -> int:
    """Bring a city's dbt project copy up to date with the shipped one (models, macros, seeds...; the generated files
    are then written over it). Only changed files are copied, so dbt's manifest is not made stale for nothing."""
    shipped = shipped_dbt_project_dir()
    copied = 0
    for path in shipped.rglob("*"):
        relative = path.relative_to(shipped)
        if not path.is_file() or relative.parts[0] in ("target", "logs", "dbt_packages"):
            continue
        destination = target / relative
        if not destination.is_file() or destination.read_bytes() != path.read_bytes():
            destination.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(path, destination)
            copied += 1
    return copied


def _shown(path: Path) -> str:
    try:
        return str(path.relative_to(project_root()))
    except ValueError:
        return str(path)


def generate(check: bool = typer.Option(False, "--check", help="Write nothing; exit 1 naming every stale file.")) -> None:
    """Regenerate the dbt sources, the GX suites and the semantic-layer metrics from the inventory and the KPI registry."""
    project = dbt_project_dir()
    if project != shipped_dbt_project_dir() and not check:
        copied = copy_shipped_project(project)
        typer.echo(f"the city's dbt project: {project} ({copied} file(s) copied from the shipped project)")
    from citystat.kpi.problems import ValidationError

    try:
        wanted = plan()
    except ValidationError as error:  # e.g. a city's own targets: one line per bad row, naming file, line and field
        typer.echo(f"error: {error}", err=True)
        raise typer.Exit(1) from None
    stale = wanted.stale()
    if check:
        for path in stale:
            typer.echo(f"stale: {_shown(path)}")
        for path in wanted.orphans:
            typer.echo(f"no longer generated: {_shown(path)}")
        if stale or wanted.orphans:
            typer.echo(f"{len(stale) + len(wanted.orphans)} generated file(s) out of date: run `{FIX}` and commit them.")
            raise typer.Exit(1)
        typer.echo(f"{len(wanted.files)} generated files up to date.")
        return
    for path in stale:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(wanted.files[path], encoding="utf-8")
        typer.echo(f"wrote: {_shown(path)}")
    for path in wanted.orphans:
        path.unlink()
        typer.echo(f"removed: {_shown(path)}")
    typer.echo(f"{len(wanted.files)} generated files; rewrote {len(stale)}, removed {len(wanted.orphans)}.")
