"""Whether a metrics or quality asset must do its work again, from what it read when it last succeeded.

An asset's inputs are the contents of the assets it depends on (or a digest of the rows it reads of one), the
project's code and its run config. A dependency's content changed when it has a materialization that did work since
the one recorded: a dbt model the daily build left out (lib/dbt_inputs.py) and an asset skipped here both report
themselves with `citystat/unchanged`, so a chain of skips stays a chain of skips and one real rebuild anywhere
upstream reaches every asset below it.

Fail closed, as the dbt build's record: the record is removed before the work starts and written only after it
succeeded, beside the work database (on PostgreSQL, in it), so a failed or interrupted step, a deleted warehouse,
a full refresh (every model rebuilt), edited code or config, or a dependency whose history it cannot follow means
the work is done again.
"""
from __future__ import annotations

import functools
import hashlib
import json
from collections.abc import Callable, Mapping
from pathlib import Path

import dagster as dg
from dagster._core.event_api import EventLogCursor

from citystat.warehouse import work_db_path
from orchestration.lib import records
from orchestration.lib.dbt_inputs import UNCHANGED

ROOT = Path(__file__).resolve().parents[2]
CODE_DIRS = ("citystat", "orchestration", "data_inventory")
# Materializations of one dependency followed since the record; more (weeks of runs without this asset): redo it.
FOLLOWED = 100


@functools.cache
def code_sha256() -> str:
    """The project's code and the files shipped with it (e.g. citystat/budget/programme_measures.csv): any edit means
    every asset computes again (simpler than tracing what each one imports and opens)."""
    digest = hashlib.sha256()
    files = (p for d in CODE_DIRS for p in (ROOT / d).rglob("*") if p.is_file() and "__pycache__" not in p.parts)
    for path in sorted(files):
        digest.update(str(path.relative_to(ROOT)).encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


def _record_name(key: dg.AssetKey) -> str:
    return "inputs." + ".".join(key.path)


def _database(warehouse) -> Path:
    """The DuckDB file the asset writes (its `warehouse` resource; on PostgreSQL the records are in the database)."""
    database = getattr(warehouse, "database", None)
    return Path(database) if database else work_db_path()


def _record_file(key: dg.AssetKey, database: Path) -> Path:
    return database.with_name(database.name + ".asset-inputs") / (_record_name(key) + ".json")


def _is_unchanged(record) -> bool:
    materialization = record.asset_materialization
    return materialization is not None and bool(getattr(materialization.metadata.get(UNCHANGED), "value", False))


def _latest(instance: dg.DagsterInstance, key: dg.AssetKey) -> list | None:
    """The dependency's latest materialization as [storage id, run id]: the run id tells the same event log apart
    from a new instance whose storage ids start again."""
    records = instance.fetch_materializations(key, limit=1).records
    return [records[0].storage_id, records[0].run_id] if records else None


def _changed_since(instance: dg.DagsterInstance, key: dg.AssetKey, seen: list | None) -> str | None:
    """Why `key`'s content may differ from what it was at its materialization `seen` (None: it is the same)."""
    if not seen:
        return "never materialized when last computed"
    storage_id, run_id = seen
    cursor = EventLogCursor.from_storage_id(storage_id - 1).to_string()
    records = instance.fetch_materializations(key, limit=FOLLOWED + 2, cursor=cursor, ascending=True).records
    if not records or (records[0].storage_id, records[0].run_id) != (storage_id, run_id):
        return "its recorded materialization is not in this instance's history"
    if len(records) > FOLLOWED + 1:
        return f"more than {FOLLOWED} materializations since"
    if any(not _is_unchanged(r) for r in records[1:]):
        return "rebuilt"
    return None


class AssetInputs:
    """What the running asset reads now, compared with the record of its last success: `reasons` (empty: nothing
    changed) and `changed` (the dependencies that did; all of them when the record, the code or the config differ).

    `warehouse` is the asset's warehouse resource: the record is kept beside the database it writes. `digests`
    replaces a dependency's "was it rebuilt" by a digest of the part of it the asset reads (a function returning
    None when it cannot tell: then it counts as changed)."""

    def __init__(self, context: dg.AssetExecutionContext, warehouse,
                 digests: Mapping[dg.AssetKey, Callable[[], str | None]] | None = None):
        key, instance = context.asset_key, context.instance
        database = _database(warehouse)
        self.name, self.path = _record_name(key), _record_file(key, database)
        self.deps = sorted(context.assets_def.asset_deps[key], key=lambda k: k.to_user_string())
        digested = {dep: fn() for dep, fn in (digests or {}).items()}
        self.current = {
            "code": code_sha256(),
            "config": json.dumps(context.op_execution_context.op_config or {}, sort_keys=True, default=str),
            "digests": {dep.to_user_string(): value for dep, value in digested.items()},
        }
        # Taken before the work: a dependency rebuilt while it runs counts next time.
        self.seen = {dep.to_user_string(): _latest(instance, dep) for dep in self.deps}
        record = records.recorded(self.name, self.path, database)
        if record is None:
            self.reasons, self.changed = ["no record of a successful computation"], set(self.deps)
            return
        self.reasons = [f"{part} changed" for part in ("code", "config") if record.get(part) != self.current[part]]
        changed = {dep: why for dep in self.deps if (why := _dependency_changed(instance, record, dep, digested))}
        self.reasons += [f"{dep.to_user_string()}: {why}" for dep, why in changed.items()]
        self.changed = set(self.deps) if len(self.reasons) > len(changed) else set(changed)

    def unchanged_dependencies(self) -> set[dg.AssetKey]:
        return set(self.deps) - self.changed

    def forget(self) -> None:
        """Before the work: until it succeeds, nothing is known to be up to date."""
        records.remember(self.name, self.path, None)

    def remember(self) -> None:
        records.remember(self.name, self.path, {**self.current, "dependencies": self.seen})


def _dependency_changed(instance: dg.DagsterInstance, record: dict, dep: dg.AssetKey,
                        digested: Mapping[dg.AssetKey, str | None]) -> str | None:
    name = dep.to_user_string()
    if dep in digested:
        same = digested[dep] is not None and (record.get("digests") or {}).get(name) == digested[dep]
        return None if same else "the rows read changed"
    recorded_deps = record.get("dependencies") or {}
    if name not in recorded_deps:
        return "not recorded"
    return _changed_since(instance, dep, recorded_deps[name])


def run_unless_unchanged(context: dg.AssetExecutionContext, warehouse, work: Callable[[], dg.MaterializeResult],
                         digests: Mapping[dg.AssetKey, Callable[[], str | None]] | None = None) -> dg.MaterializeResult:
    """`work()` unless nothing this asset reads changed since it last succeeded (AssetInputs); then a result that
    says so, `citystat/unchanged`, which the assets below read as "not rebuilt"."""
    inputs = AssetInputs(context, warehouse, digests)
    if not inputs.reasons:
        context.log.info(f"{context.asset_key.to_user_string()}: none of its inputs changed since it last succeeded: "
                         "not recomputed")
        inputs.remember()
        return dg.MaterializeResult(metadata={UNCHANGED: True, "recomputed_because": "not recomputed: inputs unchanged"})
    inputs.forget()
    result = work()
    inputs.remember()
    return dg.MaterializeResult(asset_key=result.asset_key, check_results=result.check_results,
                                metadata={**(result.metadata or {}), "recomputed_because": "; ".join(inputs.reasons)[:500]})
