"""Low-cost evaluations and the What Works Cities self-assessment (citystat.evaluations; docs/evaluations.md).

* ``evaluations`` (multi-asset): ``metrics/evaluation_results``, ``metrics/evaluation_balance`` and
  ``metrics/evaluation_assignments`` for every evaluation in data_inventory/evaluations.yaml, downstream of the
  datasets its outcomes read; the ``randomization_balanced`` check fails when a pre-period is imbalanced.
* ``metrics/wwc_self_assessment``: met / partly met / not met per criterion from the other metrics tables.
"""
# No `from __future__ import annotations`: Dagster reads the compute functions' annotations at runtime.
import dagster as dg
from dagster_duckdb import DuckDBResource

from citystat.evaluations import self_assessment
from citystat.evaluations.registry import load_registry
from citystat.evaluations.tables import ASSIGNMENTS, BALANCE, RESULTS, write_evaluation_tables
from citystat.warehouse import WAREHOUSE_POOL
from orchestration.lib.automation import automated

GROUP = "evaluations"


def _key(qualified: str) -> dg.AssetKey:
    return dg.AssetKey(qualified.split("."))


def _datasets() -> list[dg.AssetKey]:
    return sorted({_key(o.dataset) for e in load_registry() for o in e.outcomes}, key=lambda k: k.path)


@dg.multi_asset(
    specs=[
        dg.AssetSpec(_key(RESULTS), group_name=GROUP, deps=_datasets(), kinds={"duckdb"},
                     description="Low-cost evaluations: effect of each registered rollout on each outcome with a 95% CI "
                                 "(cluster-robust by unit of assignment), the MDE and the result in words."),
        dg.AssetSpec(_key(BALANCE), group_name=GROUP, deps=_datasets(), kinds={"duckdb"},
                     description="Balance of each evaluation's arms on the outcome before the start."),
        dg.AssetSpec(_key(ASSIGNMENTS), group_name=GROUP, kinds={"duckdb"},
                     description="Every unit of assignment of each evaluation and its arm (the randomization list)."),
    ],
    check_specs=[dg.AssetCheckSpec(
        "randomization_balanced", asset=_key(BALANCE),
        description="Every reported evaluation's arms were balanced on the outcome before the start (p >= 0.05).")],
    pool=WAREHOUSE_POOL, name="evaluations", can_subset=True,
)
def evaluations(context: dg.AssetExecutionContext, warehouse: DuckDBResource):
    # One analysis writes the three tables together (they must agree); a run that selects some of them
    # (`citystat run --select metrics/evaluation_results`) reports just those.
    selected = set(context.selected_asset_keys)
    with warehouse.get_connection() as con:
        tables = write_evaluation_tables(con)
    results, balance, units = tables[RESULTS], tables[BALANCE], tables[ASSIGNMENTS]
    reported = results[results["status"] == "reported"]
    primary = reported[reported["is_primary"] == True]  # noqa: E712 (object column)
    outputs = []
    outputs.append(dg.MaterializeResult(asset_key=_key(RESULTS), metadata={
        "evaluations": int(results["evaluation_id"].nunique()), "outcomes": len(results),
        "reported": int(reported["evaluation_id"].nunique()),
        "primary_results": dg.MetadataValue.md("\n".join(f"- {r}" for r in primary["result"]) or "none reported"),
        "table": RESULTS}))
    outputs.append(dg.MaterializeResult(asset_key=_key(BALANCE), metadata={"checks": len(balance), "table": BALANCE}))
    outputs.append(dg.MaterializeResult(asset_key=_key(ASSIGNMENTS), metadata={"units": len(units), "table": ASSIGNMENTS}))
    yield from (o for o in outputs if o.asset_key in selected)
    if not context.selected_asset_check_keys:
        return
    broken = balance[balance["balanced"] == False]  # noqa: E712
    yield dg.AssetCheckResult(
        check_name="randomization_balanced", asset_key=_key(BALANCE), passed=broken.empty,
        severity=dg.AssetCheckSeverity.WARN,
        description="Every pre-period is balanced." if broken.empty else
        f"{len(broken)} outcome(s) imbalanced before the start: " + "; ".join(
            f"{r.evaluation_id}.{r.outcome} ({r.note})" for r in broken.itertuples()),
        metadata={"imbalanced": ", ".join(f"{r.evaluation_id}.{r.outcome}" for r in broken.itertuples()) or "none"})


def _metric(table: str) -> dg.AssetKey:
    return dg.AssetKey(["metrics", table])


SELF_ASSESSMENT_DEPS = [
    dg.AssetKey(["inventory", "catalog"]), dg.AssetKey(["quality", "dataset_scores"]),
    *(_metric(t) for t in ("goal_progress", "kpi_status", "flags", "flag_actions", "contract_grades",
                           "contract_payments", "failing_programmes", "repurposing_candidates", "evaluation_results")),
]


@dg.asset(key=_key(self_assessment.TABLE), group_name=GROUP, pool=WAREHOUSE_POOL, deps=SELF_ASSESSMENT_DEPS,
          kinds={"duckdb"},
          description="What Works Cities self-assessment from CityStat's own metadata: met / partly met / not met per "
                      "criterion with the evidence; criteria the system cannot judge are listed as such.")
def wwc_self_assessment(warehouse: DuckDBResource) -> dg.MaterializeResult:
    with warehouse.get_connection() as con:
        table = self_assessment.write_self_assessment(con)
    summary = self_assessment.level(table)
    return dg.MaterializeResult(metadata={
        **summary, "table": self_assessment.TABLE,
        "assessment": dg.MetadataValue.md("| criterion | status | detail |\n|---|---|---|\n" + "\n".join(
            f"| {r.criterion_id} {r.criterion} | {r.status} | {r.detail} |" for r in table.itertuples()))})


EVALUATION_ASSETS = [evaluations, wwc_self_assessment]


def build_defs() -> dg.Definitions:
    # the `warehouse` resource comes with the metrics definitions (one resource object per key in the merge)
    return dg.Definitions(assets=automated(EVALUATION_ASSETS))
