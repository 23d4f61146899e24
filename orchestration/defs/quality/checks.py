"""The quality gates as Dagster asset checks.

* ``gx_suite`` on every raw asset: the dataset's GX suite on the batches it has not seen yet, normally the one
  this run landed (nothing new: nothing to check, GX is not even imported). Row-level rules are warnings (dbt staging quarantines those rows);
  error rules (e.g. SLA due dates that contradict the service type) fail the check with severity ERROR, and
  the check is ``blocking`` so the dataset's downstream assets in the same run do not materialize.
* ``reconciliation`` on every staging model: raw rows = staged + quarantined + superseded, per batch
  (blocking: a silently dropped row stops the marts built on it).
* ``gx_suite`` on the key marts: the mart suites (error rules, blocking the metrics built on them).
* ``schema_drift``, ``missing_exports`` and ``freshness`` on the ``source`` assets: properties of the source
  as delivered, evaluated from the drop folders and the load ledger by one step that runs even when a raw
  asset failed (a drifted file fails its raw asset, so a check on that asset would never run).

Every result names the dataset, the rule and example record ids, and links the GX Data Docs page under
``<warehouse>/quality/data_docs/``. Warehouse readers run in the ``warehouse_writer`` pool: DuckDB allows
one process at a time on the working warehouse.
"""

# No `from __future__ import annotations`: Dagster reads the compute functions' annotations at runtime.
import datetime as dt
from typing import Iterable

import dagster as dg
from dagster_duckdb import DuckDBResource

from data_inventory import DatasetRef, Inventory, load_inventory
from citystat.ingestion import is_automated, is_file_drop
from orchestration.defs.ingestion.assets import raw_key, source_key
from orchestration.lib.resources import IngestionResource
from citystat.quality.landed import LANDED_REFERENCE
from citystat.quality.results import record_outcome, unvalidated_batches, validated_batches
from citystat.quality.suites import ERROR, all_suites, raw_suite_name
from citystat.warehouse import WAREHOUSE_POOL

GX_CHECK = "gx_suite"
RECONCILIATION_CHECK = "reconciliation"
DRIFT_CHECK, VOLUME_CHECK, FRESHNESS_CHECK = "schema_drift", "missing_exports", "freshness"
def staging_key(ref: DatasetRef) -> dg.AssetKey:
    return dg.AssetKey(["staging", f"stg_{ref.system.id}__{ref.dataset.id}"])


def mart_key(model: str) -> dg.AssetKey:
    return dg.AssetKey(["marts", model])


def outcome_result(outcome, dataset: str, asset_key: dg.AssetKey, load_ids: list[str] | None = None,
                   check_name: str = GX_CHECK) -> dg.AssetCheckResult:
    """An AssetCheckResult from a GX suite outcome: failing error rules -> ERROR, only warnings -> WARN."""
    errors = outcome.failed_errors
    metadata = {
        "dataset": dataset,
        "suite": outcome.suite,
        "rows_checked": outcome.rows,
        "expectations": len(outcome.outcomes),
        "failed_error_rules": len(errors),
        "failed_warning_rules": len(outcome.failed) - len(errors),
        "unexpected_rows": len(outcome.unexpected_ids()),
        "results": dg.MetadataValue.json([o.as_metadata() for o in outcome.outcomes if not o.success]
                                         + [o.as_metadata() for o in outcome.outcomes if o.success]),
        "seconds": round(outcome.seconds, 2),
    }
    if load_ids:
        metadata["batches"] = dg.MetadataValue.json(load_ids)
    if outcome.table_rows is not None:
        metadata["table_rows"] = outcome.table_rows
        if outcome.changed_rows is not None:
            metadata["changed_rows"] = outcome.changed_rows
        else:
            metadata["whole_table_because"] = outcome.whole_table_because
    if outcome.docs_path:
        metadata["data_docs"] = dg.MetadataValue.url(outcome.docs_path.resolve().as_uri())
    record_outcome(outcome.suite, {"suite": outcome.suite, "dataset": dataset, "rows": outcome.rows,
                                   "expectations": len(outcome.outcomes), "failed": len(outcome.failed),
                                   "failed_errors": len(errors), "pass_rate": outcome.pass_rate,
                                   "unexpected_rows": len(outcome.unexpected_ids()),
                                   "results": [o.as_metadata() for o in outcome.outcomes],
                                   "checked_at": dt.datetime.now(dt.timezone.utc).isoformat(),
                                   "validated_load_ids": sorted(validated_batches(outcome.suite) | set(load_ids or ())),
                                   "data_docs": str(outcome.docs_path) if outcome.docs_path else None})
    return dg.AssetCheckResult(
        asset_key=asset_key, check_name=check_name, passed=outcome.success,
        severity=dg.AssetCheckSeverity.ERROR if errors else dg.AssetCheckSeverity.WARN,
        description=outcome.describe(dataset)[:2000], metadata=metadata,
    )


# raw assets ---------------------------------------------------------------------------------------


def build_raw_suite_check(ref: DatasetRef, inventory: Inventory) -> dg.AssetChecksDefinition:
    suite = all_suites()[raw_suite_name(*ref.key)]
    key = raw_key(ref)

    # a rule that looks records up in another landed dataset (a service code in the services list) runs after it lands
    references = sorted({match.groups() for sql in suite.derived_columns.values() for match in LANDED_REFERENCE.finditer(sql)})

    @dg.asset_check(
        asset=key, name=GX_CHECK, blocking=suite.has_errors,
        additional_deps=[dg.AssetKey(["raw", system, dataset]) for system, dataset in references if (system, dataset) != ref.key],
        description=f"GX suite {suite.name} ({len(suite.expectations)} expectations, expectations/suites/{suite.name}.json) "
                    "on the batch this run landed.",
        metadata={"suite": suite.name, "error_rules": sum(e['meta']['severity'] == ERROR for e in suite.expectations)},
    )
    def raw_gx_suite(context: dg.AssetCheckExecutionContext, ingestion: IngestionResource) -> dg.AssetCheckResult:
        landing = ingestion.landing()
        load_ids = unvalidated_batches(ref, landing, suite.name)
        if not load_ids:
            return dg.AssetCheckResult(passed=True, description=f"{ref.name}: no new batch to check",
                                       metadata={"dataset": ref.name, "rows_checked": 0})
        from citystat.quality.gx_runner import data_docs_dir
        from citystat.quality.validation import validate_batches

        outcome = validate_batches(ref, landing, inventory, load_ids, docs_dir=data_docs_dir())
        result = outcome_result(outcome, ref.name, key, load_ids)
        if not outcome.success:  # a passing suite says so in its check evaluation; no log event for it
            context.log.warning(outcome.describe(ref.name))
        return result

    return raw_gx_suite


# staging ------------------------------------------------------------------------------------------


def build_reconciliation_check(refs: list[DatasetRef]) -> dg.AssetChecksDefinition:
    by_check = {dg.AssetCheckKey(staging_key(ref), RECONCILIATION_CHECK): ref for ref in refs}

    @dg.multi_asset_check(
        name="staging_reconciliation",
        specs=[dg.AssetCheckSpec(RECONCILIATION_CHECK, asset=staging_key(ref), blocking=True,
                                 description=f"The source's own count of {ref.name} = landed rows = staged + quarantined + superseded versions, per batch.")
               for ref in refs],
        can_subset=True, pool=WAREHOUSE_POOL,
    )
    def staging_reconciliation(context: dg.AssetCheckExecutionContext, warehouse: DuckDBResource,
                               ingestion: IngestionResource) -> Iterable[dg.AssetCheckResult]:
        from citystat.quality.reconciliation import reconcile

        landing = ingestion.landing()
        with warehouse.get_connection() as con:
            for check_key in sorted(context.selected_asset_check_keys, key=str):
                ref = by_check[check_key]
                if _unchanged_in_this_run(context, check_key.asset_key) and _last_check_passed(context, check_key):
                    # Its source landed nothing and dbt left it as it was: the counts are those that last held.
                    yield dg.AssetCheckResult(
                        asset_key=check_key.asset_key, check_name=RECONCILIATION_CHECK, passed=True,
                        severity=dg.AssetCheckSeverity.ERROR, metadata={"dataset": ref.name, "unchanged": True},
                        description=f"{ref.name}: no new batch and staging unchanged since the last reconciliation, which held")
                    continue
                result = reconcile(ref, landing, con)
                record_outcome(f"reconciliation.{ref.name}", {"dataset": ref.name, "holds": result.holds, **result.totals(),
                                                              "batches": len(result.batches)})
                if not result.holds:
                    context.log.error(result.describe())
                yield dg.AssetCheckResult(
                    asset_key=check_key.asset_key, check_name=RECONCILIATION_CHECK, passed=result.holds,
                    severity=dg.AssetCheckSeverity.ERROR, description=result.describe()[:2000],
                    metadata={"dataset": ref.name, **result.totals(), "batches": len(result.batches),
                              "per_batch": dg.MetadataValue.json([vars(b) for b in result.batches[-50:]])},
                )

    return staging_reconciliation


def _unchanged_in_this_run(context, asset_key: dg.AssetKey) -> bool:
    """The dbt step of this run reported the model without rebuilding it (a daily build left it out)."""
    from orchestration.lib.dbt_inputs import UNCHANGED

    event = context.instance.get_latest_materialization_event(asset_key)
    if event is None or event.run_id != context.op_execution_context.run_id or event.asset_materialization is None:
        return False
    return bool(getattr(event.asset_materialization.metadata.get(UNCHANGED), "value", False))


def _last_check_passed(context, check_key: dg.AssetCheckKey) -> bool:
    """The latest evaluation of this check in an earlier run passed (one that failed or never ran: check again)."""
    from dagster._core.storage.asset_check_execution_record import AssetCheckExecutionRecordStatus as Status

    for record in context.instance.event_log_storage.get_asset_check_execution_history(check_key, limit=5):
        if record.run_id == context.op_execution_context.run_id or record.status == Status.PLANNED:
            continue
        return record.status == Status.SUCCEEDED
    return False


# marts --------------------------------------------------------------------------------------------


def mart_models() -> list[str]:
    return sorted(s.target["model"] for s in all_suites().values() if s.target.get("kind") == "mart")


def build_mart_suite_check(models: list[str]) -> dg.AssetChecksDefinition:
    @dg.multi_asset_check(
        name="mart_gx_suites",
        specs=[dg.AssetCheckSpec(GX_CHECK, asset=mart_key(model), blocking=True,
                                 description=f"GX suite marts.{model} (expectations/suites/marts.{model}.json): error rules "
                                             "that keep bad rows from reaching the KPIs.")
               for model in models],
        can_subset=True, pool=WAREHOUSE_POOL,
    )
    def mart_gx_suites(context: dg.AssetCheckExecutionContext, warehouse: DuckDBResource) -> Iterable[dg.AssetCheckResult]:
        from citystat.quality.gx_runner import data_docs_dir
        from citystat.quality.validation import validate_mart

        with warehouse.get_connection() as con:
            for check_key in sorted(context.selected_asset_check_keys, key=str):
                model = check_key.asset_key.path[-1]
                outcome = validate_mart(model, con, docs_dir=data_docs_dir(), changed_only=True)
                if not outcome.success:
                    context.log.error(outcome.describe(f"marts.{model}"))
                yield outcome_result(outcome, f"marts.{model}", check_key.asset_key)

    return mart_gx_suites


# sources ------------------------------------------------------------------------------------------


def build_source_health_check(refs: list[DatasetRef]) -> dg.AssetChecksDefinition:
    specs = []
    for ref in refs:
        specs.append(dg.AssetCheckSpec(FRESHNESS_CHECK, asset=source_key(ref),
                                       description=f"New data of {ref.name} landed within {ref.dataset.freshness_hours:g} h "
                                                   f"(cadence {ref.dataset.cadence})."))
        if is_file_drop(ref):
            specs.append(dg.AssetCheckSpec(DRIFT_CHECK, asset=source_key(ref),
                                           description=f"Every file dropped for {ref.name} has the inventory's columns."))
            specs.append(dg.AssetCheckSpec(VOLUME_CHECK, asset=source_key(ref),
                                           description=f"No {ref.dataset.cadence} export of {ref.name} is missing."))
    by_key = {ref.key: ref for ref in refs}

    @dg.multi_asset_check(name="source_health", specs=specs, can_subset=True,
                          description="Schema drift, missing exports and freshness of the inventoried sources.")
    def source_health(context: dg.AssetCheckExecutionContext, ingestion: IngestionResource) -> Iterable[dg.AssetCheckResult]:
        from citystat.quality.drift import drifted_files
        from citystat.quality.freshness import check_freshness
        from citystat.quality.volume import check_volume

        landing, data_dir = ingestion.landing(), ingestion.data_path()
        for check_key in sorted(context.selected_asset_check_keys, key=str):
            ref = by_key[tuple(check_key.asset_key.path[1:])]
            key, name = check_key.asset_key, check_key.name
            if name == FRESHNESS_CHECK:
                fresh = check_freshness(ref, landing)
                yield dg.AssetCheckResult(asset_key=key, check_name=name, passed=fresh.fresh, severity=dg.AssetCheckSeverity.WARN,
                                          description=fresh.describe(),
                                          metadata={"dataset": ref.name, "age_hours": fresh.age_hours if fresh.age_hours is not None else -1.0,
                                                    "freshness_hours": fresh.freshness_hours})
            elif name == DRIFT_CHECK:
                drifted = drifted_files(ref, landing, data_dir)
                text = "; ".join(f"{d.file}: {d.problem}" for d in drifted) or f"{ref.name}: every dropped file matches the inventory"
                yield dg.AssetCheckResult(asset_key=key, check_name=name, passed=not drifted, severity=dg.AssetCheckSeverity.ERROR,
                                          description=(f"{ref.name}: " + text if drifted else text)[:2000],
                                          metadata={"dataset": ref.name, "drifted_files": dg.MetadataValue.json([d.as_metadata() for d in drifted])})
            elif name == VOLUME_CHECK:
                volume = check_volume(ref, landing, data_dir)
                passed = volume is None or volume.ok
                yield dg.AssetCheckResult(asset_key=key, check_name=name, passed=passed, severity=dg.AssetCheckSeverity.WARN,
                                          description=volume.describe() if volume else f"{ref.name}: no per-period files to count",
                                          metadata={"dataset": ref.name,
                                                    "missing_periods": dg.MetadataValue.json([d.isoformat() for d in volume.missing] if volume else []),
                                                    "pauses": dg.MetadataValue.json([[a.isoformat(), b.isoformat()] for a, b in volume.pauses] if volume else [])})

    return source_health


SOURCE_HEALTH_JOB = "source_health_checks"


def build_quality_checks(inventory: Inventory | None = None, asset_keys: Iterable[dg.AssetKey] | None = None) -> list:
    """Every quality check whose target asset exists (``asset_keys``; default: assume all exist)."""
    inventory = inventory or load_inventory()
    present = None if asset_keys is None else set(asset_keys)

    def exists(key: dg.AssetKey) -> bool:
        return present is None or key in present

    suites = all_suites()
    refs = [ref for ref in inventory.datasets() if is_automated(ref)]
    checks: list = [build_raw_suite_check(ref, inventory) for ref in refs
                    if raw_suite_name(*ref.key) in suites and exists(raw_key(ref))]
    staged = [ref for ref in refs if exists(staging_key(ref))]
    if staged:
        checks.append(build_reconciliation_check(staged))
    models = [m for m in mart_models() if exists(mart_key(m))]
    if models:
        checks.append(build_mart_suite_check(models))
    sourced = [ref for ref in refs if exists(source_key(ref))]
    if sourced:
        checks.append(build_source_health_check(sourced))
    return checks


def source_health_job(checks: list):
    source_checks = [c for c in checks if getattr(c, "node_def", None) is not None and c.node_def.name == "source_health"]
    return dg.define_asset_job(SOURCE_HEALTH_JOB, selection=dg.AssetSelection.checks(*source_checks),
                               description="Schema drift, missing exports and freshness of every inventoried source.")
