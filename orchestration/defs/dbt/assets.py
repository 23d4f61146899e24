"""The dbt project as one Dagster multi-asset: seeds, staging, marts and `kpi_values`, in one `dbt build`.

No partitions: the incremental models select what landed since their last run, so an ordinary run processes
exactly what is new whatever day it lands on, and after a full build no model shows as Missing. Reprocessing
a date range (after a rule change, say) is a run config, not a partition backfill: ``reprocess_from`` /
``reprocess_to`` pass a window of the records' own updated time to the incremental models, which rebuild just
those records (``citystat run --reprocess-from ... --reprocess-to ...``, or the launchpad in the UI).
"""
# No `from __future__ import annotations`: Dagster reads the compute functions' annotations at runtime.
import datetime as dt
import json
import uuid
from graphlib import TopologicalSorter
from pathlib import Path
from typing import Optional

import dagster as dg
import psycopg

from citystat import settings
from citystat.postgres_warehouse import configured_url, first_line, load_landing, unreachable
from citystat.warehouse import WAREHOUSE_POOL
from orchestration.lib import dbt_inputs, partial_parse
from orchestration.lib.dbt_project import TRANSLATOR, dbt_project, warehouse_environment
from orchestration.lib.no_dbt_core import dbt_core_hidden

with dbt_core_hidden():
    from dagster_dbt import DbtCliResource, dbt_assets


class DbtBuildConfig(dg.Config):
    full_refresh: bool = False  # rebuild the incremental models from every landed batch
    reprocess_from: Optional[str] = None  # YYYY-MM-DD: first day of records (by their own updated time) to rebuild
    reprocess_to: Optional[str] = None  # YYYY-MM-DD: last day, inclusive


def build_vars(config: DbtBuildConfig) -> dict[str, str]:
    """What a run builds with: the data's as-of date and the reprocessing window, if any (naive city time).
    The record dbt_inputs compares; dbt gets the window as --vars and the date from the environment
    (build_args, lib/dbt_project.dbt_environment)."""
    values: dict[str, str] = {}
    as_of = settings.as_of()
    if as_of is not None:
        values["as_of"] = as_of.isoformat()
    if config.reprocess_from or config.reprocess_to:
        try:
            start = dt.date.fromisoformat(config.reprocess_from or "")
            end = dt.date.fromisoformat(config.reprocess_to or "")
        except ValueError:
            raise dg.Failure(f"reprocess window {config.reprocess_from!r} .. {config.reprocess_to!r}: "
                             "give both days as YYYY-MM-DD") from None
        if end < start:
            raise dg.Failure(f"reprocess window ends ({end}) before it starts ({start})")
        values["window_start"] = f"{start} 00:00:00"
        values["window_end"] = f"{end + dt.timedelta(days=1)} 00:00:00"
    return values


def build_args(config: DbtBuildConfig) -> list[str]:
    args = ["build"]
    if configured_url():  # unit tests are checked on DuckDB (docs/postgres_warehouse.md)
        args += ["--exclude", "resource_type:unit_test"]
    if config.full_refresh:
        args.append("--full-refresh")
    # Not the as-of date: a --vars that changes every day makes dbt re-parse the whole project.
    if window := {key: value for key, value in build_vars(config).items() if key != "as_of"}:
        args += ["--vars", json.dumps(window)]
    return args


@dbt_assets(manifest=dbt_project().manifest_path, project=dbt_project(), dagster_dbt_translator=TRANSLATOR,
            name="dbt_models", pool=WAREHOUSE_POOL)
def dbt_models(context: dg.AssetExecutionContext, dbt: DbtCliResource, config: DbtBuildConfig):
    """Seeds, staging (typed, deduplicated, PII dropped, bad rows quarantined), marts and kpi_values.

    Skipped, with everything downstream of it, when nothing it reads changed since the last successful build
    (lib/dbt_inputs.py): a daily run that landed nothing new runs no model, no dbt test and no mart suite. A
    daily run that landed some batches builds and tests only what is downstream of their sources.
    """
    url = configured_url()
    try:
        yield from _build(context, dbt, config, url)
    except psycopg.OperationalError as error:  # libpq's first line names host and port, never the password
        raise dg.Failure(f"PostgreSQL unreachable: {first_line(error)}; the published schemas are the previous "
                         "run's") from None


def _build(context: dg.AssetExecutionContext, dbt: DbtCliResource, config: DbtBuildConfig, url: Optional[str]):
    args = build_args(config)
    manifest_path = dbt_project().manifest_path  # written by dbt_project() when stale: it exists here
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    inputs = dbt_inputs.fingerprint(manifest, manifest_path.parent.parent / "dbt_project.yml", args, build_vars(config))
    if not config.full_refresh and dbt_inputs.unchanged_since_last_build(inputs):
        context.log.info("dbt skipped: no new landing batch, dbt project and --vars unchanged since the last "
                         "successful build (`citystat run --full-refresh` rebuilds anyway)")
        return
    if not config.full_refresh and dbt_inputs.project_changed(inputs):
        context.log.warning("the dbt project changed since the last successful build: incremental models keep the rows "
                            "their previous SQL built; if the change touches them, rebuild with `citystat run "
                            "--full-refresh` (a model whose columns changed stops until then)")
    whole_project = context.selected_asset_keys == set(context.assets_def.keys)
    daily = None if config.full_refresh or not whole_project else dbt_inputs.selection(manifest, inputs)
    if daily is not None:
        args = [*args, *daily.exclude_args(manifest)]
        context.log.info(f"dbt builds {len(daily.unique_ids)} nodes downstream of what landed since the last "
                         f"successful build ({', '.join(daily.sources) or 'no source'}"
                         f"{'; the as-of date moved' if daily.as_of_moved else ''}); the others are unchanged")
    dbt_inputs.forget()
    if url:  # dbt-postgres reads tables, not Parquet: the landing batches not yet there first (COPY)
        load_landing(settings.landing_dir(), url, progress=context.log.info)
    if daily is not None and any(manifest["nodes"].get(uid, {}).get("resource_type") == "model" for uid in daily.unique_ids):
        yield from unchanged_outputs(context, manifest, daily)  # none when no model changed: what follows is skipped
    target_path = _target_path(context)
    partial_parse.seed(target_path)
    with warehouse_environment():
        invocation = dbt.cli(args, context=context, target_path=target_path)
        try:
            yield from invocation.stream()
        except Exception:
            if url and (problem := unreachable(url)):  # one line for people; dbt's own account is in its log
                raise dg.Failure(f"PostgreSQL became unreachable ({problem}) during the dbt build: see "
                                 f"{invocation.target_path / 'dbt.log'}; the published schemas are the previous "
                                 "run's") from None
            raise
        finally:
            partial_parse.keep(target_path)
    if whole_project:  # a subset build does not bring the other models up to date
        dbt_inputs.remember(inputs)


def _target_path(context: dg.AssetExecutionContext) -> Path:
    """The invocation's own target folder, named as dagster-dbt names it, chosen here to seed it beforehand."""
    project = dbt_project()
    base = Path(project.project_dir) / project.target_path
    return base / f"{context.op_execution_context.op.name}-{context.run.run_id[:7]}-{uuid.uuid4().hex[:7]}"


def unchanged_outputs(context: dg.AssetExecutionContext, manifest: dict, daily: dbt_inputs.Selection):
    """The models and seeds a selective build leaves out, reported as outputs that were not rebuilt.

    Dagster skips a step when any asset it depends on yields nothing, so without these publish, metrics and the
    suites would not run on what did change. What is left out is closed upstream (a model downstream of a
    changed one is built), so yielding it first, parents before children, keeps the order Dagster requires."""
    output_by_key = {key: name for name, key in context.assets_def.keys_by_output_name.items()
                     if name in context.selected_output_names}
    left_out = {uid: node for uid, node in manifest["nodes"].items()
                if node["resource_type"] in ("model", "seed", "snapshot") and uid not in daily.unique_ids}
    order = TopologicalSorter({uid: [p for p in manifest["parent_map"].get(uid, ()) if p in left_out] for uid in left_out})
    for uid in order.static_order():
        output_name = output_by_key.get(TRANSLATOR.get_asset_key(left_out[uid]))
        if output_name is not None:
            yield dg.Output(None, output_name=output_name, metadata={dbt_inputs.UNCHANGED: True})


class DbtCli(DbtCliResource):
    """dbt as a process, with no in-process dbt adapter: Dagster's adapter features (row counts, column
    metadata fetched by Dagster) are unused here, and keeping dbt-core out of the step saves its import
    (see lib/no_dbt_core.py) and a warning with a traceback on every run."""

    def _initialize_dbt_core_adapter(self, args):  # noqa: ARG002 - dagster-dbt's hook; None = no adapter
        return None


def dbt_resource() -> DbtCliResource:
    return DbtCli(project_dir=dbt_project(), profiles_dir=str(dbt_project().profiles_dir),
                          dbt_executable=settings.dbt_executable())


def build_defs() -> dg.Definitions:
    return dg.Definitions(assets=[dbt_models], resources={"dbt": dbt_resource()})
