"""Ingestion assets generated from the inventory: no hand-written asset per dataset.

For every inventory dataset: an external ``["source", system, dataset]`` spec (automated or not, so
lineage starts at the inventory). For every dataset with an automated connector: a
``["raw", system, dataset]`` asset that lands what is new as one immutable batch. Both are grouped
by department and carry the inventory's ownership, cadence, sensitivity and access metadata.
Building them only reads the inventory YAML: no network, no data files.
"""

# No `from __future__ import annotations`: Dagster reads the compute functions' annotations at runtime.
import datetime as dt
import logging
import re
import threading
from contextlib import contextmanager
from dataclasses import dataclass

import dagster as dg

from data_inventory import DatasetRef, Inventory, load_inventory
from citystat.connectors import CONNECTOR_KINDS, SchemaDrift, SourceError, SourceSpec, SourceUnavailable
from orchestration.lib.landing_threads import LANDING_LOGGERS, land, own_demo_city, records_replayed, started_landing
from orchestration.lib.resources import IngestionResource
from citystat.ingestion import is_automated, is_file_drop
from citystat.landing import LoadResult

FIELD_TYPES = {"string": "string", "integer": "int", "number": "float", "boolean": "bool", "date": "date", "datetime": "datetime"}
SYSTEM_KINDS = {"spreadsheet": "excel", "desktop_database": "access", "paper": "paper", "file_drop": "csv", "api": "api"}
DRIFT_CHECK = "schema_drift"
FILES_CHECK = "readable_files"
SOURCE_CHECK = "source_reachable"
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def source_key(ref: DatasetRef) -> dg.AssetKey:
    return dg.AssetKey(["source", *ref.key])


def raw_key(ref: DatasetRef) -> dg.AssetKey:
    return dg.AssetKey(["raw", *ref.key])


# metadata ---------------------------------------------------------------------------------------


def _contact(contact) -> str:
    return f"{contact.name} <{contact.email}>"


def inventory_metadata(ref: DatasetRef) -> dict:
    """What the inventory says about a dataset, as Dagster metadata (never a secret: env var names only)."""
    ds = ref.dataset
    by_sensitivity = {level: [f.name for f in ds.fields if f.sensitivity == level] for level in ("pii", "sensitive")}
    metadata = {
        "inventory_id": ref.name,
        "department": f"{ref.department.name} ({ref.department.id})",
        "system": f"{ref.system.name} ({ref.system.kind})",
        "owner": _contact(ds.owner),
        "steward": _contact(ds.steward),
        "cadence": ds.cadence,
        "freshness_hours": float(ds.freshness_hours),
        "update_method": ds.update_method,
        "access_level": ds.access_level,
        "connector": ds.connector,
        "publication": ds.publication.status,
        "priority": ds.priority,
        "pii_fields": dg.MetadataValue.json(by_sensitivity["pii"]),
        "sensitive_fields": dg.MetadataValue.json(by_sensitivity["sensitive"]),
        "sensitivity": (
            "; ".join(f"{level}: {', '.join(names)}" for level, names in by_sensitivity.items() if names) or "public"
        ),
        "dagster/column_schema": dg.TableSchema(columns=[
            dg.TableColumn(
                f.name,
                FIELD_TYPES.get(f.type, f.type),
                description=f.description,
                constraints=dg.TableColumnConstraints(nullable=not f.required),
                tags={"sensitivity": f.sensitivity},
            )
            for f in ds.fields
        ]),
    }
    if ds.location and ds.location.env:
        metadata["location_env"] = ds.location.env
    if ds.location and ds.location.note:
        metadata["location_note"] = ds.location.note
    if ds.source_object:
        metadata["source_object"] = ds.source_object
    if ds.cursor_field:
        metadata["cursor_field"] = ds.cursor_field
    if ds.primary_key:
        metadata["primary_key"] = ", ".join(ds.primary_key)
    if ds.publication.url:
        metadata["publication_url"] = dg.MetadataValue.url(ds.publication.url)
    if ds.quality_concerns:
        metadata["quality_concerns"] = dg.MetadataValue.json(list(ds.quality_concerns))
    return metadata


def _owners(ref: DatasetRef) -> list[str]:
    return [c.email for c in (ref.dataset.owner, ref.dataset.steward) if _EMAIL.match(c.email)][:1]


def _description(ref: DatasetRef, lead: str) -> str:
    ds = ref.dataset
    return f"{lead}{ds.title} ({ref.system.name}, {ref.department.name}).\n\n{ds.description}"


def _kinds(ref: DatasetRef) -> set[str]:
    if is_automated(ref):
        return set(CONNECTOR_KINDS[ref.dataset.connector])
    return {SYSTEM_KINDS.get(ref.system.kind, "manual")}


def _tags(ref: DatasetRef) -> dict[str, str]:
    return {"citystat/department": ref.department.id, "citystat/connector": ref.dataset.connector,
            "citystat/access_level": ref.dataset.access_level.replace(" ", "_")}


# assets -----------------------------------------------------------------------------------------


def build_source_spec(ref: DatasetRef) -> dg.AssetSpec:
    """The dataset where it lives, outside CityStat: the root of its lineage."""
    lead = "" if is_automated(ref) else "Not automated (inventoried only). "
    return dg.AssetSpec(
        key=source_key(ref),
        group_name=ref.department.id,
        description=_description(ref, lead),
        metadata=inventory_metadata(ref),
        kinds=_kinds(ref),
        owners=_owners(ref),
        tags=_tags(ref),
    )


def _result_metadata(result: LoadResult, spec: SourceSpec) -> dict:
    metadata = {
        "dagster/row_count": result.rows,
        "rows": result.rows,
        "new_batch": result.landed,
        "load_id": result.load_id or "",
        "cursor": result.cursor or "",
        "batch_path": dg.MetadataValue.path(str(result.parts[0])) if result.parts else "",
        "batch_parts": len(result.parts),
        "location_env": spec.location_env or "",
    }
    if result.files:
        metadata["files"] = dg.MetadataValue.json(result.files)
    if result.source_rows is not None:  # the source's own count of this batch (= rows, or nothing committed)
        metadata["source_rows"] = result.source_rows
    if result.set_aside:
        metadata["files_set_aside"] = dg.MetadataValue.json(result.set_aside)
    return metadata


def describe_set_aside(dataset: str, set_aside: list[dict]) -> str:
    """The files set aside, one line each: file, line, data row, field and reason (never file content)."""
    if not set_aside:
        return ""
    lines = [f"{dataset}: {len(set_aside)} file(s) set aside, unlanded, while the other files landed "
             "(fix or replace the file, then rerun):"]
    for f in set_aside:
        where = ", ".join(part for part in (f"line {f['line']}" if f.get("line") else "",
                                            f"data row {f['row']}" if f.get("row") else "",
                                            f"field {f['field']!r}" if f.get("field") else "") if part)
        lines.append(f"  - {f['file']}{' (' + where + ')' if where else ''}: {f['reason']}")
    return "\n".join(lines)


class _ToDagsterLog(logging.Handler):
    def __init__(self, context: dg.AssetExecutionContext):
        super().__init__(logging.INFO)
        self.context = context
        self.thread = threading.get_ident()

    def emit(self, record: logging.LogRecord) -> None:
        if record.thread == self.thread:  # not another run's landing threads
            self.context.log.log(record.levelno, record.getMessage())


@contextmanager
def connector_logs_in_run(context: dg.AssetExecutionContext):
    """Show the connectors' own log lines (retries, tidied leftovers) in the Dagster run log."""
    handler = _ToDagsterLog(context)
    loggers = [logging.getLogger(name) for name in LANDING_LOGGERS]
    for logger in loggers:
        logger.addHandler(handler)
    try:
        yield
    finally:
        for logger in loggers:
            logger.removeHandler(handler)


def plan_raw_refs(context: dg.AssetExecutionContext, refs_by_step: dict[str, DatasetRef]) -> list[DatasetRef]:
    """The raw landings this run's plan executes, in the order its steps run."""
    plan = context.op_execution_context.get_step_execution_context().execution_plan
    return [refs_by_step[step.key] for step in plan.get_steps_to_execute_in_topo_order() if step.key in refs_by_step]


def source_failed(context: dg.AssetExecutionContext, ref: DatasetRef, ingestion: IngestionResource,
                  error: SourceError | SourceUnavailable) -> dg.MaterializeResult:
    """Only this source fails: nothing new lands (a batch is committed whole or not at all), its earlier batches stay
    what the warehouse builds on, and the run's other sources go on to staging and publication. The step succeeds
    with the same data version as before, so nothing downstream counts it as new data; the failed ERROR check
    `source_reachable` names the dataset, where, the attempts and the time spent (`citystat run` exits 1)."""
    context.log.error(str(error))
    batches = ingestion.landing().entries(*ref.key)
    metadata = {"dagster/row_count": 0, "rows": 0, "new_batch": False, "source_failed": True,
                "latest_load_id": batches[-1]["load_id"] if batches else ""}
    if isinstance(error, SourceUnavailable):
        metadata.update(source=error.where, attempts=error.attempts, last_error=error.last_error)
    check = dg.AssetCheckResult(check_name=SOURCE_CHECK, passed=False, severity=dg.AssetCheckSeverity.ERROR,
                                description=str(error)[:2000], metadata={"dataset": ref.name})
    skipped = [dg.AssetCheckResult(check_name=name, passed=True, severity=dg.AssetCheckSeverity.ERROR,
                                   description=f"{ref.name}: no file was read (the source failed)")
               for name in ((DRIFT_CHECK, FILES_CHECK) if is_file_drop(ref) else ())]
    return dg.MaterializeResult(metadata=metadata, data_version=dg.DataVersion(metadata["latest_load_id"] or "empty"),
                                check_results=[check, *skipped])


def build_raw_asset(ref: DatasetRef, refs_by_step: dict[str, DatasetRef]) -> dg.AssetsDefinition:
    """Land what is new in one inventory dataset as an immutable Parquet batch. ``refs_by_step``: every raw
    asset's dataset by step key (filled as they are built), so a step can start the run's other landings."""
    ds = ref.dataset
    kinds = _kinds(ref)
    if len(kinds) < 3:  # Dagster shows at most three kinds
        kinds |= {"parquet"}

    @dg.asset(
        key=raw_key(ref),
        deps=[source_key(ref)],
        group_name=ref.department.id,
        description=_description(ref, "Raw landing (immutable Parquet batches) of "),
        metadata=inventory_metadata(ref),
        kinds=kinds,
        owners=_owners(ref),
        tags=_tags(ref),
        freshness_policy=dg.FreshnessPolicy.time_window(fail_window=dt.timedelta(hours=float(ds.freshness_hours))),
        check_specs=[dg.AssetCheckSpec(SOURCE_CHECK, asset=raw_key(ref),
                                       description=f"{ref.name}'s source answered within its deadline and retries. "
                                                   "When it does not, nothing new lands, its earlier batches stay what "
                                                   "the warehouse builds on, and the run's other sources go on.")]
        + ([dg.AssetCheckSpec(DRIFT_CHECK, asset=raw_key(ref),
                              description=f"Every file dropped for {ref.name} has the inventory's columns; "
                                          "a file that does not stays unlanded in its folder."),
            dg.AssetCheckSpec(FILES_CHECK, asset=raw_key(ref),
                              description=f"Every file dropped for {ref.name} reads completely: a strict parse "
                                          "accounts for every line. A file that does not (unterminated quote, "
                                          "ragged row, bad bytes, empty) is set aside, named with its line and "
                                          "field, while the other files land.")]
           if is_file_drop(ref) else []),
    )
    def raw(context: dg.AssetExecutionContext, ingestion: IngestionResource):
        try:
            started = started_landing(context.run.run_id, ref.name, lambda: plan_raw_refs(context, refs_by_step), ingestion)
            if started is None:
                with connector_logs_in_run(context):
                    spec, result = land(ref, ingestion, own_demo_city(ingestion))
            else:  # landed on the run's thread pool beside the run's other sources (orchestration/lib/landing_threads.py)
                future, records = started
                with records_replayed(records, lambda record: context.log.log(record.levelno, record.getMessage())):
                    spec, result = future.result()
        except (SourceUnavailable, SourceError) as exc:
            yield source_failed(context, ref, ingestion, exc)
            return

        # What landed is the materialization's metadata (rows, load_id, files), not a log line: every event is a
        # SQLite write (~33 ms), and a run lands every dataset.
        metadata = _result_metadata(result, spec)
        check_results = [dg.AssetCheckResult(check_name=SOURCE_CHECK, passed=True, severity=dg.AssetCheckSeverity.ERROR,
                                             description=f"{ref.name}: the source answered")]
        if is_file_drop(ref):
            # The good files land and flow on; a drifted file stays in its folder, unlanded, named by a failed check.
            drift = SchemaDrift(spec, result.rejected_files) if result.rejected_files else None
            if drift:
                context.log.error(str(drift))
            check_results.append(dg.AssetCheckResult(
                check_name=DRIFT_CHECK, passed=drift is None, severity=dg.AssetCheckSeverity.ERROR,
                description=str(drift)[:2000] if drift else f"{ref.name}: every new file has the inventory's columns",
                metadata={"dataset": ref.name, "rejected_files": dg.MetadataValue.json(result.rejected_files)},
            ))
            set_aside = describe_set_aside(ref.name, result.set_aside)
            if set_aside:
                context.log.error(set_aside)
            check_results.append(dg.AssetCheckResult(
                check_name=FILES_CHECK, passed=not result.set_aside, severity=dg.AssetCheckSeverity.ERROR,
                description=set_aside[:2000] if set_aside else f"{ref.name}: every new file reads completely"
                + (f" ({result.source_rows} source rows = {result.rows} landed)" if result.source_rows is not None else ""),
                metadata={"dataset": ref.name, "set_aside": dg.MetadataValue.json(result.set_aside),
                          "source_rows": result.source_rows if result.source_rows is not None else -1,
                          "landed_rows": result.rows},
            ))
        yield dg.MaterializeResult(metadata=metadata, data_version=dg.DataVersion(result.latest_load_id or "empty"),
                                   check_results=check_results)

    refs_by_step[raw.op.name] = ref
    return raw


@dataclass(frozen=True)
class Ingestion:
    """The inventory's datasets as Dagster definitions."""

    inventory: Inventory
    source_specs: list[dg.AssetSpec]
    raw_assets: list[dg.AssetsDefinition]

    @property
    def refs(self) -> list[DatasetRef]:
        return list(self.inventory.datasets())

    @property
    def automated_refs(self) -> list[DatasetRef]:
        """The datasets with a raw asset, in the order of ``raw_assets``."""
        return [ref for ref in self.inventory.datasets() if is_automated(ref)]

    @property
    def file_drop_refs(self) -> list[DatasetRef]:
        return [ref for ref in self.inventory.datasets() if is_file_drop(ref)]

    @property
    def raw_keys(self) -> list[dg.AssetKey]:
        return [key for asset in self.raw_assets for key in asset.keys]


def build_ingestion(inventory: Inventory | None = None) -> Ingestion:
    inventory = inventory or load_inventory()
    refs = list(inventory.datasets())
    refs_by_step: dict[str, DatasetRef] = {}
    return Ingestion(
        inventory=inventory,
        source_specs=[build_source_spec(ref) for ref in refs],
        raw_assets=[build_raw_asset(ref, refs_by_step) for ref in refs if is_automated(ref)],
    )
