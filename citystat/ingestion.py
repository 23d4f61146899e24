"""What the inventory says about ingesting a dataset: is it automated, is it a file drop, and its connector
configuration for a run (the location resolved against the data folder)."""
from __future__ import annotations

from pathlib import Path

from data_inventory import DatasetRef, resolve_location
from citystat.connectors import AUTOMATED_CONNECTORS, FILE_DROP_CONNECTORS, SourceError, SourceSpec


def is_automated(ref: DatasetRef) -> bool:
    return ref.dataset.connector in AUTOMATED_CONNECTORS


def is_file_drop(ref: DatasetRef) -> bool:
    return ref.dataset.connector in FILE_DROP_CONNECTORS


def source_spec(ref: DatasetRef, data_dir: Path) -> SourceSpec:
    """The connector configuration of one inventory entry, with its location resolved for this run."""
    ds = ref.dataset
    try:
        location = resolve_location(ref, data_dir)
    except ValueError as exc:
        raise SourceError(str(exc)) from exc
    return SourceSpec(
        system_id=ref.system.id,
        dataset_id=ds.id,
        connector=ds.connector,
        location=location,
        source_object=ds.source_object or ds.id,
        location_env=ds.location.env if ds.location else None,
        cursor_field=ds.cursor_field,
        primary_key=tuple(ds.primary_key),
        sheet=ds.sheet,
        column_mapping=dict(ds.column_mapping),
        fields=tuple(f.name for f in ds.fields),
    )
