"""Schema drift of file drops, seen from the quality side: dropped files whose header no longer matches the
inventory (and which ingestion therefore refused to land), with the columns that differ.

Ingestion rejects such a file and fails its raw asset; this finding keeps saying so, as a check and in the
dataset's score, until the inventory declares the mapping or the department re-sends the file.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from data_inventory import DatasetRef
from citystat.connectors.base import SourceError
from citystat.connectors.drift import HeaderDrift, compare_header
from citystat.connectors.file_drop import CsvFile, FileDropConnector, XlsxFile
from citystat.ingestion import is_file_drop, source_spec
from citystat.landing import Landing


@dataclass(frozen=True)
class DriftedFile:
    file: str
    drift: HeaderDrift | None  # None: the header could not be read at all
    problem: str

    def as_metadata(self) -> dict:
        d = self.drift
        return {"file": self.file, "missing": list(d.missing) if d else [], "undeclared": list(d.undeclared) if d else [],
                "duplicated": list(d.duplicated) if d else [], "problem": self.problem}


def drifted_files(ref: DatasetRef, landing: Landing, data_dir: Path) -> list[DriftedFile]:
    """Files in the dataset's drop folder, not landed, whose header drifts from the declared fields."""
    if not is_file_drop(ref):
        return []
    spec = source_spec(ref, data_dir)
    connector = FileDropConnector(spec)
    try:
        files = connector.files()
    except SourceError:
        return []  # no folder: a freshness problem, not drift
    landed = {f["file"] for e in landing.entries(*ref.key) for f in e.get("files", ())}
    found = []
    for path in files:
        if path.name in landed:
            continue
        reader = XlsxFile(path, spec.sheet, 1000) if connector.is_xlsx else CsvFile(path)
        try:
            header = reader.header()
        except SourceError as exc:
            found.append(DriftedFile(path.name, None, str(exc)))
            continue
        finally:
            reader.close()
        drift = compare_header(header, spec.fields, spec.column_mapping)
        if drift:
            found.append(DriftedFile(path.name, drift, drift.describe()))
    return found
