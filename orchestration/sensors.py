"""File-drop sensors: one per drop-folder dataset; a new file starts a run of that dataset's raw asset.

The cursor is the newest file seen (modification time, then name). The sensor only decides *when*
to run; *what* lands is decided by the landing ledger (file name + SHA-256), so a file the sensor
misses (e.g. copied in with an old timestamp) still lands on the next run or the daily schedule.
"""

# No `from __future__ import annotations`: Dagster reads the sensor's annotations at runtime.
import json
from pathlib import Path

import dagster as dg

from data_inventory import DatasetRef, resolve_location
from orchestration.ingestion import raw_key
from orchestration.ingestion_resource import IngestionResource

SENSOR_INTERVAL_SECONDS = 60


def newest_file(folder: Path, pattern: str) -> tuple[int, str] | None:
    """(mtime in ns, name) of the newest file matching ``pattern``; None when there is none."""
    if not folder.is_dir():
        return None
    stamps = [
        (path.stat().st_mtime_ns, path.name)
        for path in folder.glob(pattern)
        if path.is_file() and not path.name.startswith((".", "~$"))
    ]
    return max(stamps, default=None)


def build_file_drop_sensor(ref: DatasetRef) -> dg.SensorDefinition:
    key = raw_key(ref)
    pattern = ref.dataset.source_object or "*"
    name = f"{ref.system.id}__{ref.dataset.id}__new_files"

    @dg.sensor(
        name=name,
        asset_selection=[key],
        minimum_interval_seconds=SENSOR_INTERVAL_SECONDS,
        default_status=dg.DefaultSensorStatus.RUNNING,
        description=f"Lands {ref.name} when a new file matching {pattern!r} arrives in its drop folder.",
    )
    def sensor(context: dg.SensorEvaluationContext, ingestion: IngestionResource):
        folder = Path(resolve_location(ref, ingestion.data_path()))
        newest = newest_file(folder, pattern)
        if newest is None:
            return dg.SkipReason(f"no file matching {pattern!r} in {folder}")
        seen = tuple(json.loads(context.cursor)) if context.cursor else None
        if seen is not None and newest <= seen:
            return dg.SkipReason(f"no file newer than {seen[1]}")
        context.update_cursor(json.dumps(list(newest)))
        return dg.RunRequest(run_key=f"{newest[1]}@{newest[0]}", asset_selection=[key],
                             tags={"citystat/trigger": "file_drop", "citystat/file": newest[1]})

    return sensor


def build_file_drop_sensors(refs: list[DatasetRef]) -> list[dg.SensorDefinition]:
    return [build_file_drop_sensor(ref) for ref in refs]
