"""The Dagster asset that builds the Evidence dashboard site from the published snapshot.

It reads only the snapshot (never the working warehouse), so it needs no place in the warehouse
writers' pool; `build_site` itself lets one build at a time use the Evidence project folder.
"""
# No `from __future__ import annotations`: Dagster reads the compute function's annotations at runtime.
import dagster as dg

from citystat.dashboards import build_site, default_site_dir, default_snapshot_path

SITE_KEY = dg.AssetKey(["dashboards", "site"])
SNAPSHOT_KEY = dg.AssetKey(["publish", "snapshot"])
UNCHANGED_MESSAGE = "no table the dashboards read has changed since their last build, nor have their pages"


@dg.asset(
    key=SITE_KEY,
    group_name="publish",
    deps=[SNAPSHOT_KEY],
    kinds={"evidence"},
    description="The Evidence dashboard site (scorecard, departments, goals, contracts, budget, inventory), "
    "built from the published snapshot into <warehouse>/dashboards; serve it with `citystat dashboards serve`.",
)
def dashboard_site(context: dg.AssetExecutionContext) -> dg.MaterializeResult:
    snapshot, site = default_snapshot_path(), default_site_dir()
    context.log.info(f"building the dashboards from {snapshot} into {site} unless the tables they read are unchanged")
    build = build_site(snapshot, site)
    if build.skipped:
        context.log.info(f"{UNCHANGED_MESSAGE}: kept the {len(build.pages)} pages in {site}")
    else:
        context.log.info(f"built {len(build.pages)} pages in {build.seconds['total']:.0f} s "
                         f"(changed: {', '.join(build.rebuilt_because)}): {build.seconds}")
    return dg.MaterializeResult(metadata={
        "rebuilt": not build.skipped,
        "rebuilt_because": dg.MetadataValue.text(", ".join(build.rebuilt_because) or UNCHANGED_MESSAGE),
        "path": dg.MetadataValue.path(str(build.site_dir)),
        "pages": len(build.pages),
        "page_paths": dg.MetadataValue.text("\n".join(build.pages)),
        "build_seconds": build.seconds["total"],
        "step_seconds": dg.MetadataValue.json(build.seconds),
        "snapshot_tables": dg.MetadataValue.text(", ".join(build.tables)),
        "peak_memory_mb": build.peak_child_memory_mb,
    })


DASHBOARD_ASSETS = [dashboard_site]
