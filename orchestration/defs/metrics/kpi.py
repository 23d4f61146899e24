"""Dagster assets of the KPI metrics layer: thin wrappers around ``citystat.kpi.metrics_tables``.

Convention (docs/contracts.md, "Metrics assets"): keys ``["metrics", <table>]`` in group ``metrics``, deps on the
dbt models they read, the ``warehouse`` resource and the ``warehouse_writer`` pool. Lineage inside the group:

    kpi_registry
    kpi_series (+ kpi_submission_problems) -> kpi_status -> flags (+ flag_actions) -> performance_memo
                                          \\-> goal_progress ------------------------/
                                           kpi_status -> cityscore

Tables and columns for analysts: docs/metrics_tables.md; rules: docs/kpi_rules.md.
"""

# No `from __future__ import annotations`: Dagster reads the compute functions' annotations at runtime.
import dagster as dg
from dagster_duckdb import DuckDBResource

from citystat.kpi import metrics_tables as tables
from citystat.kpi.registry import load_registry
from citystat.budget.memo import MEMO_TABLES as BUDGET_MEMO_TABLES, memo_sections
from citystat.evaluations.memo import memo_sections as evaluation_memo_sections
from citystat.warehouse import WAREHOUSE_POOL

GROUP = "metrics"
PROBLEMS_LISTED = 20  # in check and materialization metadata; the table has them all


def _metric(table: str) -> dg.AssetKey:
    return dg.AssetKey(["metrics", table])


def _model(layer: str, name: str) -> dg.AssetKey:
    return dg.AssetKey([layer, name])


REGISTRY_SEEDS = [_model("reference", "kpi_registry"), _model("reference", "kpi_targets")]
WORKBENCH_ACTIONS = _model("staging", "stg_perf_workbench__flag_actions")


def _listed(items: list[str]) -> str:
    more = f"\n... and {len(items) - PROBLEMS_LISTED} more" if len(items) > PROBLEMS_LISTED else ""
    return "\n".join(items[:PROBLEMS_LISTED]) + more


@dg.asset(key=_metric("kpi_registry"), group_name=GROUP, pool=WAREHOUSE_POOL, deps=REGISTRY_SEEDS,
          description=tables.TABLE_DOCS["kpi_registry"][0])
def kpi_registry(warehouse: DuckDBResource) -> dg.MaterializeResult:
    registry = load_registry()
    with warehouse.get_connection() as con:
        frame = tables.write_kpi_registry(con, registry)
    return dg.MaterializeResult(metadata={
        "kpis": len(frame), "computed": int((frame["source"] == "computed").sum()),
        "submitted": int((frame["source"] == "submitted").sum()), "table": "metrics.kpi_registry"})


@dg.multi_asset(
    specs=[
        dg.AssetSpec(_metric("kpi_series"), group_name=GROUP, description=tables.TABLE_DOCS["kpi_series"][0],
                     deps=[_model("marts", "kpi_values"), _model("staging", "stg_perf_office__kpi_submissions"),
                           *REGISTRY_SEEDS]),
        dg.AssetSpec(_metric("kpi_submission_problems"), group_name=GROUP,
                     description=tables.TABLE_DOCS["kpi_submission_problems"][0],
                     deps=[_model("staging", "stg_perf_office__kpi_submissions"),
                           _model("staging", "quarantine_perf_office__kpi_submissions")]),
    ],
    check_specs=[dg.AssetCheckSpec(
        "submissions_valid", asset=_metric("kpi_submission_problems"),
        description="Every row of the performance office's KPI template passed (problems name file, line and field).")],
    pool=WAREHOUSE_POOL, name="kpi_series",
)
def kpi_series(warehouse: DuckDBResource):
    registry = load_registry()
    with warehouse.get_connection() as con:
        result = tables.write_kpi_series(con, registry)
    frame, problems = result.series, result.problems
    described = [f"{p.submission_file}: {p.field}: {p.problem}" for p in problems.itertuples()]
    yield dg.MaterializeResult(asset_key=_metric("kpi_series"), metadata={
        "rows": len(frame), "kpis": int(frame["kpi_id"].nunique()),
        "computed_rows": int((frame["source"] == "computed").sum()),
        "submitted_rows": int((frame["source"] == "submitted").sum()),
        "latest_period": str(frame["period"].max()) if len(frame) else "", "table": "metrics.kpi_series"})
    yield dg.MaterializeResult(asset_key=_metric("kpi_submission_problems"), metadata={
        "problems": len(problems), "table": "metrics.kpi_submission_problems"})
    yield dg.AssetCheckResult(
        check_name="submissions_valid", asset_key=_metric("kpi_submission_problems"), passed=not described,
        severity=dg.AssetCheckSeverity.ERROR,
        description=("Every submitted row is valid." if not described else
                     f"{len(described)} problem(s) in submitted KPI rows; those rows are left out of metrics.kpi_series."),
        metadata={"problems": len(described), "first_problems": _listed(described)})


@dg.asset(key=_metric("kpi_status"), group_name=GROUP, pool=WAREHOUSE_POOL, deps=[_metric("kpi_series")],
          description=tables.TABLE_DOCS["kpi_status"][0],
          check_specs=[dg.AssetCheckSpec(
              "every_kpi_reported", asset=_metric("kpi_status"),
              description="Every KPI of the registry has a value in the three months up to the as-of date.")])
def kpi_status(warehouse: DuckDBResource) -> dg.MaterializeResult:
    registry = load_registry()
    with warehouse.get_connection() as con:
        table = tables.write_kpi_status(con, registry)
        as_of = tables.data_as_of(con)
    counts = table[table["period"] == table["period"].max()]["status"].value_counts() if len(table) else {}
    silent = tables.kpis_without_recent_values(table, registry, as_of)
    return dg.MaterializeResult(
        metadata={"rows": len(table), "kpis": int(table["kpi_id"].nunique()), "as_of": str(as_of),
                  **{f"latest_{s}": int(counts.get(s, 0)) for s in ("green", "yellow", "red", "gray")},
                  "table": "metrics.kpi_status"},
        check_results=[dg.AssetCheckResult(
            check_name="every_kpi_reported", passed=not silent, severity=dg.AssetCheckSeverity.WARN,
            description="Every KPI has a recent value." if not silent else
            f"{len(silent)} KPI(s) without a value in the three months to {as_of}: {', '.join(silent)}",
            metadata={"kpis_without_recent_values": ", ".join(silent)})])


@dg.multi_asset(
    specs=[
        dg.AssetSpec(_metric("flags"), group_name=GROUP, description=tables.FLAG_DOCS[0],
                     deps=[_metric("kpi_status"), WORKBENCH_ACTIONS]),
        dg.AssetSpec(_metric("flag_actions"), group_name=GROUP, description=tables.FLAG_ACTION_DOCS[0],
                     deps=[_metric("kpi_status"), WORKBENCH_ACTIONS]),
    ],
    check_specs=[dg.AssetCheckSpec(
        "actions_csv_valid", asset=_metric("flag_actions"),
        description="The office's flag action CSV imported without a problem (a bad file is not imported at all).")],
    pool=WAREHOUSE_POOL, name="flags",
)
def flags(warehouse: DuckDBResource):
    with warehouse.get_connection() as con:
        result = tables.write_flags(con)
        counts = tables.flag_counts(con)
    sync = result.sync
    yield dg.MaterializeResult(asset_key=_metric("flags"), metadata={
        "flags": counts["flags"], "unresolved": counts["unresolved"], "raised_now": len(sync.raised),
        "auto_resolved_now": len(sync.auto_resolved), "condition_gone_now": len(sync.condition_gone),
        "condition_cleared_now": len(sync.cleared), "escalated_now": len(sync.escalated),
        "raised": _listed(sync.raised), "table": "metrics.flags"})
    yield dg.MaterializeResult(asset_key=_metric("flag_actions"), metadata={
        "actions": counts["actions"], "imported_from_csv": result.imported, "already_logged": result.already_logged,
        "from_workbench_now": result.workbench.added, "raised_by_hand_now": _listed(result.workbench.manual_raised),
        "workbench_actions_on_unknown_flags": _listed(result.workbench.unknown_flags),
        "actions_csv": dg.MetadataValue.path(str(result.actions_csv)), "csv_created": result.csv_created,
        "table": "metrics.flag_actions"})
    problems = [str(p) for p in result.csv_problems]
    yield dg.AssetCheckResult(
        check_name="actions_csv_valid", asset_key=_metric("flag_actions"), passed=not problems,
        severity=dg.AssetCheckSeverity.ERROR,
        description=(f"{result.actions_csv}: imported." if not problems else
                     f"{result.actions_csv}: {len(problems)} problem(s); nothing imported. Fix the rows and rerun."),
        metadata={"problems": _listed(problems)})


@dg.asset(key=_metric("goal_progress"), group_name=GROUP, pool=WAREHOUSE_POOL,
          deps=[_metric("kpi_series"), _model("staging", "stg_perf_office__strategic_goals")],
          description=tables.TABLE_DOCS["goal_progress"][0])
def goal_progress(warehouse: DuckDBResource) -> dg.MaterializeResult:
    registry = load_registry()
    with warehouse.get_connection() as con:
        table = tables.write_goal_progress(con, registry)
    return dg.MaterializeResult(metadata={
        "goals": len(table), "as_of": str(table["as_of"].iloc[0]) if len(table) else "",
        **{status.replace(" ", "_"): int(n) for status, n in table["status"].value_counts().items()},
        "off_pace": ", ".join(table.loc[table["status"].isin(["off track", "missed"]), "goal_id"]),
        "table": "metrics.goal_progress"})


@dg.asset(key=_metric("cityscore"), group_name=GROUP, pool=WAREHOUSE_POOL,
          deps=[_metric("kpi_status"), _model("marts", "fct_service_requests")],
          description=tables.TABLE_DOCS["cityscore"][0])
def cityscore(warehouse: DuckDBResource) -> dg.MaterializeResult:
    registry = load_registry()
    with warehouse.get_connection() as con:
        table = tables.write_cityscore(con, registry)
    citywide = table[(table["level"] == "citywide") & (table["grain"] == "month")].sort_values("period_start")
    latest = citywide.iloc[-1] if len(citywide) else None
    return dg.MaterializeResult(metadata={
        "rows": len(table), "grains": ", ".join(dict.fromkeys(table["grain"])),
        "latest_month": latest["period"] if latest is not None else "",
        "latest_citywide_score": float(latest["score"]) if latest is not None else None,
        "table": "metrics.cityscore"})


@dg.asset(key=_metric("kpi_commentary"), group_name=GROUP, pool=WAREHOUSE_POOL,
          deps=[_model("staging", "stg_perf_workbench__commentary")], description=tables.TABLE_DOCS["kpi_commentary"][0])
def kpi_commentary(warehouse: DuckDBResource) -> dg.MaterializeResult:
    with warehouse.get_connection() as con:
        table = tables.write_kpi_commentary(con)
    return dg.MaterializeResult(metadata={"rows": len(table), "table": "metrics.kpi_commentary"})


class MemoConfig(dg.Config):
    month: str = ""  # YYYY-MM; empty = the latest month closed on the as-of date
    top_movers: int = 5


@dg.asset(key=_metric("performance_memo"), group_name=GROUP, pool=WAREHOUSE_POOL,
          deps=[_metric("kpi_status"), _metric("flags"), _metric("goal_progress"), _metric("kpi_commentary"),
                *(_metric(t) for t in BUDGET_MEMO_TABLES), _metric("evaluation_results")],
          description="The monthly performance memo to the mayor, Markdown and HTML "
                      "(<warehouse>/memos/memo_YYYY-MM.md|.html): at a glance, critical KPIs in red, top movers, "
                      "new and unresolved flags, goals off pace, budget repurposing when built and evaluations that reported.")
def performance_memo(config: MemoConfig, warehouse: DuckDBResource) -> dg.MaterializeResult:
    with warehouse.get_connection() as con:
        memo, md_path, html_path = tables.write_memo(con, month=config.month or None, top_movers=config.top_movers,
                                                     extra_sections=[*memo_sections(con), *evaluation_memo_sections(con)])
    return dg.MaterializeResult(metadata={
        "month": memo.month, "markdown": dg.MetadataValue.path(str(md_path)),
        "html": dg.MetadataValue.path(str(html_path)), "preview": dg.MetadataValue.md(memo.markdown)})


@dg.asset(key=_metric("stat_meeting_briefings"), group_name=GROUP, pool=WAREHOUSE_POOL,
          deps=[_metric("kpi_status"), _metric("flags"), dg.AssetKey(["inventory", "catalog"])],  # catalog: department names
          description="Stat-meeting briefings, one PDF (and the same page as HTML) per department for the latest month "
                      "closed (<warehouse>/briefings/<month>/briefing_<month>_<department>.pdf|.html): the 3-6 KPIs that matter "
                      "with their trend against target, open flags with days open, commitments from the last meeting "
                      "(citystat.kpi.briefing; also `citystat kpi briefing`).")
def stat_meeting_briefings(warehouse: DuckDBResource) -> dg.MaterializeResult:
    from citystat.kpi.briefing import write_briefings

    with warehouse.get_connection() as con:
        month = tables.memo_month_for(tables.data_as_of(con))
        paths = write_briefings(con, month, tables.briefing_dir())
    return dg.MaterializeResult(metadata={
        "month": month, "briefings": len(paths), "folder": dg.MetadataValue.path(str(tables.briefing_dir() / month))})


# On PostgreSQL: the KPI metrics, which read and write only through citystat.warehouse's portable helpers.
POSTGRES_METRICS_ASSETS = [kpi_registry, kpi_series, kpi_status, flags, goal_progress, cityscore, kpi_commentary,
                           performance_memo, stat_meeting_briefings]
METRICS_ASSETS = [kpi_registry, kpi_series, kpi_status, flags, goal_progress, cityscore, kpi_commentary, performance_memo,
                  stat_meeting_briefings]
