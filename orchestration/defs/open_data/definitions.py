"""The `publish/open_data` asset: the open-data exports (citystat.open_data), built from the published snapshot;
and `publish/public_site`, the public site built from those released exports only (citystat.public_site).

It reads only the snapshot, so it needs no warehouse-writer slot. An export whose inputs are unchanged keeps its
files (citystat/open_data/record.py) unless the run is a full refresh (`citystat run --full-refresh`); the public
site is rebuilt only when the released exports or its own inputs changed. A held export (mosaic risk awaiting a
reviewer) is not an error of the run: it is reported in the metadata and the log, and stays unpublished.
"""
# No `from __future__ import annotations`: Dagster reads the compute function's annotations at runtime.
import dagster as dg

from citystat.open_data.cli import describe, run_exports
from citystat.open_data.config import open_data_dir
from citystat.public_site.cli import build_from_released
from orchestration.lib.automation import automated
from orchestration.run import full_refresh_requested

OPEN_DATA_KEY = dg.AssetKey(["publish", "open_data"])
SNAPSHOT_KEY = dg.AssetKey(["publish", "snapshot"])
PUBLIC_SITE_KEY = dg.AssetKey(["publish", "public_site"])


@dg.asset(
    key=OPEN_DATA_KEY,
    group_name="publish",
    deps=[SNAPSHOT_KEY],
    kinds={"csv", "parquet"},
    description="Open-data exports (CSV, Parquet, data dictionary) of the public datasets and aggregates declared in "
    "data_inventory/open_data.yaml, behind the privacy gate, into <warehouse>/open_data.",
)
def open_data_exports(context: dg.AssetExecutionContext) -> dg.MaterializeResult:
    results = run_exports(full_refresh=full_refresh_requested(context.run.run_config))
    rewritten = sum(not r.kept for r in results)
    if results:  # one log event for every export (each event is a write to the run's event log)
        held = any(r.status == "held" for r in results)
        (context.log.warning if held else context.log.info)("\n".join(describe(r) for r in results))
    return dg.MaterializeResult(metadata={
        "path": dg.MetadataValue.path(str(open_data_dir())),
        "released": sum(r.status == "released" for r in results),
        "exports_rewritten": rewritten,
        "exports_kept": len(results) - rewritten,  # inputs unchanged: the previous files, linked, not copied
        "rebuilt": rewritten > 0 or not results,
        "held_for_review": dg.MetadataValue.text(", ".join(r.id for r in results if r.status == "held") or "none"),
        "suppressed_cells": sum(r.suppressed_cells for r in results),
        "exports": dg.MetadataValue.text("\n".join(describe(r) for r in results)),
    })


@dg.asset(
    key=PUBLIC_SITE_KEY,
    group_name="publish",
    deps=[OPEN_DATA_KEY],
    kinds={"html"},
    description="The public site (scorecard, goals with progress, pace and method, published KPIs, open-data files, "
    "data.json), built only from the released exports in <warehouse>/open_data, into <warehouse>/public_site.",
)
def public_site(context: dg.AssetExecutionContext) -> dg.MaterializeResult:
    result = build_from_released(force=full_refresh_requested(context.run.run_config))
    context.log.info(f"{len(result.pages)} public pages from {len(result.exports)} released export(s)"
                     f"{'' if result.rebuilt else ': kept, nothing they are made from changed'}")
    return dg.MaterializeResult(metadata={
        "rebuilt": result.rebuilt,
        "path": dg.MetadataValue.path(str(result.site_dir)),
        "pages": len(result.pages),
        "exports": dg.MetadataValue.text(", ".join(result.exports) or "none"),
    })


def build_defs() -> dg.Definitions:
    return dg.Definitions(assets=automated([open_data_exports, public_site]))
