"""The file-drop sensor: one sensor for every drop-folder dataset; files that have not landed start one run.

It starts from what has already landed: a file whose name is in the landing ledger never triggers a run, so a
first start on a warehouse that is up to date requests nothing (no storm of runs for files long landed). A file
it asked to land is remembered by name and modification time, so a file the landing refuses (schema drift)
is not asked for again until it changes. What lands is still decided by the ledger (file name + SHA-256).

On its very first evaluation (no cursor: a fresh Dagster instance over an existing warehouse) a file that is not
in the ledger but is older than the dataset's last landing was already seen by that landing and refused (schema
drift): it is remembered as asked, not requested, so the first start requests nothing for it either.
"""

# No `from __future__ import annotations`: Dagster reads the sensor's annotations at runtime.
import datetime as dt
import hashlib
import json
from pathlib import Path

import dagster as dg

from data_inventory import DatasetRef, resolve_location
from orchestration.defs.ingestion.assets import raw_key
from orchestration.lib.resources import IngestionResource

SENSOR_NAME = "file_drops"
SENSOR_INTERVAL_SECONDS = 30


def dropped_files(folder: Path, pattern: str) -> dict[str, int]:
    """name -> mtime (ns) of the files matching ``pattern`` in ``folder`` (hidden and Office lock files left out)."""
    if not folder.is_dir():
        return {}
    return {path.name: path.stat().st_mtime_ns for path in folder.glob(pattern)
            if path.is_file() and not path.name.startswith((".", "~$"))}


def landed_names(ingestion: IngestionResource) -> dict[tuple[str, str], set[str]]:
    """(system, dataset) -> names of the files the landing ledger holds, from one read of the ledger per tick."""
    names: dict[tuple[str, str], set[str]] = {}
    for entry in ingestion.landing().entries():
        names.setdefault((entry["system"], entry["dataset"]), set()).update(f["file"] for f in entry.get("files", ()))
    return names


def pending_files(ref: DatasetRef, ingestion: IngestionResource, landed: set[str], asked: dict[str, int]) -> dict[str, int]:
    """Files of ``ref`` that have not landed and were not already asked for in their current version."""
    folder = Path(resolve_location(ref, ingestion.data_path()))
    return {name: mtime for name, mtime in dropped_files(folder, ref.dataset.source_object or "*").items()
            if name not in landed and asked.get(name) != mtime}


def last_landing_ns(ref: DatasetRef, ingestion: IngestionResource, instance: dg.DagsterInstance) -> int:
    """When ``ref`` last landed (ns since the epoch): its newest ledger batch or raw materialization, else 0."""
    times = []
    entries = ingestion.landing().entries(ref.system.id, ref.dataset.id)
    if entries and entries[-1].get("extracted_at"):
        stamp = dt.datetime.fromisoformat(str(entries[-1]["extracted_at"]).replace("Z", "+00:00"))
        times.append(int(stamp.timestamp() * 1e9))
    event = instance.get_latest_materialization_event(raw_key(ref))
    if event is not None:
        times.append(int(event.timestamp * 1e9))
    return max(times, default=0)


def build_file_drop_sensor(refs: list[DatasetRef]) -> dg.SensorDefinition:
    by_name = {ref.name: ref for ref in refs}

    @dg.sensor(
        name=SENSOR_NAME,
        asset_selection=[raw_key(ref) for ref in refs],
        minimum_interval_seconds=SENSOR_INTERVAL_SECONDS,
        default_status=dg.DefaultSensorStatus.RUNNING,
        description="Lands the drop-folder datasets that have new files, in one run; the warehouse follows by "
                    f"automation. Watches {len(refs)} drop folders.",
    )
    def file_drops(context: dg.SensorEvaluationContext, ingestion: IngestionResource):
        first = not context.cursor
        asked: dict[str, dict[str, int]] = json.loads(context.cursor) if context.cursor else {}
        landed = landed_names(ingestion)
        pending = {name: pending_files(ref, ingestion, landed.get(ref.key, set()), asked.get(name, {}))
                   for name, ref in by_name.items()}
        if first:  # files the last landing already saw and refused count as asked (see the module docstring)
            for name, files in pending.items():
                since = last_landing_ns(by_name[name], ingestion, context.instance)
                seen = {file: mtime for file, mtime in files.items() if mtime <= since}
                if seen:
                    asked[name] = {**asked.get(name, {}), **seen}
                    pending[name] = {file: mtime for file, mtime in files.items() if file not in seen}
        pending = {name: files for name, files in pending.items() if files}
        if not pending:
            if asked:
                context.update_cursor(json.dumps(asked, sort_keys=True))
            return dg.SkipReason("every dropped file has landed")
        for name, files in pending.items():
            asked[name] = {**asked.get(name, {}), **files}
        context.update_cursor(json.dumps(asked, sort_keys=True))
        listing = sorted(f"{name}/{file}@{mtime}" for name, files in pending.items() for file, mtime in files.items())
        return dg.RunRequest(
            run_key=hashlib.sha256("\n".join(listing).encode()).hexdigest()[:16],
            asset_selection=[raw_key(by_name[name]) for name in sorted(pending)],
            tags={"citystat/trigger": "file_drop", "citystat/files": ", ".join(listing)[:200]},
        )

    return file_drops
