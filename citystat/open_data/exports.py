"""Build the open-data exports from the published snapshot, through the privacy gate, into the released folder.

Each export (an inventory dataset or a declared aggregate) is written as CSV + Parquet + a JSON data dictionary
into a fresh version folder, then swapped in atomically (the ``<root>/<id>`` symlink is replaced in one rename):
a reader never sees half an export, and a held export keeps no file of the new data. ``manifest.json`` lists what
is released, for data.json and the public site.
"""
from __future__ import annotations

import json
import os
import re
import shutil
import uuid
from dataclasses import asdict, dataclass, field
from pathlib import Path

import duckdb
import pandas as pd

from citystat.open_data.config import AggregateExport, DatasetExport, OpenDataConfig
from citystat.open_data.kpi_exports import GOAL_PROGRESS_ID, KPI_SERIES_ID, goal_progress_frame, kpi_series_frame
from citystat.open_data.privacy import mosaic_risks, scrub_sql, shape_fingerprint, suppress_cells
from citystat.open_data.review import ReviewLog
from citystat.personal_names import register as register_name_redaction
from citystat.warehouse import quote_identifier, quote_table

EXPORT_ID = re.compile(r"^[a-z0-9][a-z0-9_.-]*$")
VERSIONS = ".versions"
TEXT_TYPES = ("VARCHAR",)


@dataclass
class ExportResult:
    id: str
    title: str
    status: str  # released | held | not_public
    reason: str = ""
    rows: int = 0
    files: dict[str, str] = field(default_factory=dict)  # kind -> path relative to the root
    suppressed_cells: int = 0
    review_item: dict | None = None


def build_exports(snapshot: Path, inventory, config: OpenDataConfig, root: Path, review: ReviewLog) -> list[ExportResult]:
    root = Path(root)
    (root / VERSIONS).mkdir(parents=True, exist_ok=True)
    results = []
    con = duckdb.connect(str(snapshot), read_only=True)
    register_name_redaction(con)  # the scrubber macro calls redact_names()
    try:
        for spec in config.datasets:
            results.append(_dataset_export(con, inventory, spec, config.k, root, review))
        for spec in config.aggregates:
            results.append(_aggregate_export(con, spec, config.k, root))
        if config.kpis:
            results.append(_frame_export(KPI_SERIES_ID, *kpi_series_frame(con, config.kpis, config.k), root))
        if config.goals:
            results.append(_frame_export(GOAL_PROGRESS_ID, *goal_progress_frame(con, config.k), root))
    finally:
        con.close()
    for result in results:
        if result.status != "released":
            _withdraw(root, result.id)  # held or no longer public: no file of it stays released
    _write_json(root / "manifest.json", {"k": config.k, "base_url": config.base_url, "exports": [asdict(r) for r in results]})
    return results


def _dataset_export(con, inventory, spec: DatasetExport, k: int, root: Path, review: ReviewLog) -> ExportResult:
    system, _, name = spec.dataset.partition(".")
    ref = inventory.get(system, name)
    ds = ref.dataset
    result = ExportResult(id=spec.dataset, title=ds.title, status="not_public")
    if ds.access_level != "public" or ds.publication.status != "published":
        result.reason = f"access level {ds.access_level!r}, publication {ds.publication.status!r}: never exported"
        return result
    restricted = set(ref.restricted_fields)
    schema, table = spec.table.split(".", 1)
    columns = [(c, t) for c, t in con.execute(
        "SELECT column_name, data_type FROM duckdb_columns() WHERE schema_name = ? AND table_name = ? ORDER BY column_index",
        [schema, table]).fetchall()
               if c not in restricted and not c.startswith("_")]  # _load_id, _source_file: internal lineage
    if not columns:
        raise ValueError(f"{spec.dataset}: table {spec.table} not found in the snapshot (or has only restricted columns)")
    select = ", ".join(f"{scrub_sql(c)} AS {quote_identifier(c)}" if t in TEXT_TYPES else quote_identifier(c)
                       for c, t in columns)
    frame = con.execute(f"SELECT {select} FROM {quote_table(spec.table)}").df()
    missing = [q for q in spec.quasi_identifiers if q not in frame.columns]
    if missing:
        raise ValueError(f"{spec.dataset}: quasi-identifier(s) {', '.join(missing)} are not columns of {spec.table}")
    fingerprint = shape_fingerprint(columns, spec.quasi_identifiers, k)
    risks = mosaic_risks(frame, spec.quasi_identifiers, k)
    if risks and not review.approved(spec.dataset, fingerprint):
        reason = (f"{risks} combination(s) of {' + '.join(spec.quasi_identifiers)} single out fewer than {k} records "
                  "(mosaic risk): held for privacy review")
        result.status, result.reason = "held", reason
        result.review_item = review.raise_item(spec.dataset, fingerprint, reason)
        return result
    descriptions = {f.name: f.description for f in ds.fields}
    comments = dict(con.execute("SELECT column_name, comment FROM duckdb_columns() WHERE schema_name = ? AND table_name = ?",
                                [schema, table]).fetchall())
    dictionary = {
        "name": spec.dataset, "title": ds.title, "description": ds.description,
        "fields": [{"name": c, "type": t.lower(), "description": descriptions.get(c) or comments.get(c) or ""} for c, t in columns],
        "privacy": {"removed_fields": len(restricted),  # a count: the names of personal fields are not published either
                    "free_text": "e-mail addresses, phone numbers and cued names masked",
                    "quasi_identifiers": list(spec.quasi_identifiers), "k": k},
    }
    if risks:
        dictionary["privacy"]["approval"] = review.approved(spec.dataset, fingerprint)
    result.status, result.rows = "released", len(frame)
    result.files = _release(root, spec.dataset, frame, dictionary)
    return result


def _aggregate_export(con, spec: AggregateExport, k: int, root: Path) -> ExportResult:
    rows, cols = quote_identifier(spec.rows), quote_identifier(spec.columns)
    counts = con.execute(f"SELECT {rows} AS r, {cols} AS c, count(*) AS n FROM {quote_table(spec.table)} "
                         f"WHERE {rows} IS NOT NULL AND {cols} IS NOT NULL GROUP BY 1, 2").df()
    table = counts.pivot(index="r", columns="c", values="n").fillna(0).astype(int).sort_index().sort_index(axis=1)
    published, hidden = suppress_cells(table, k)
    published["Total"] = table.sum(axis=1)  # totals of the true counts: complementary suppression protects them
    published.loc["Total"] = [*table.sum(axis=0).tolist(), int(table.values.sum())]
    published.index.name, published.columns.name = spec.rows, None
    frame = published.reset_index()
    frame[spec.rows] = frame[spec.rows].astype(str)
    for column in frame.columns[1:]:
        frame[column] = frame[column].astype("Int64")
    dictionary = {
        "name": spec.id, "title": spec.title,
        "description": f"Count of records in {spec.table} by {spec.rows} (rows) and {spec.columns} (columns), with totals.",
        "fields": [{"name": spec.rows, "type": "varchar", "description": f"{spec.rows} (the last row, Total, sums every row)"}]
        + [{"name": str(c), "type": "integer", "description": f"records with {spec.columns} = {c}" if c != "Total" else "row total"}
           for c in frame.columns[1:]],
        "privacy": {"k": k, "suppressed_cells": len(hidden),
                    "rule": f"counts from 1 to {k - 1} are empty, and so are complementary cells, so that no empty cell "
                            "can be worked out from the row and column totals"},
    }
    result = ExportResult(id=spec.id, title=spec.title, status="released", rows=len(frame), suppressed_cells=len(hidden))
    result.files = _release(root, spec.id, frame, dictionary)
    return result


def _frame_export(export_id: str, frame: pd.DataFrame, dictionary: dict, root: Path) -> ExportResult:
    result = ExportResult(id=export_id, title=dictionary["title"], status="released", rows=len(frame),
                          suppressed_cells=dictionary["privacy"]["suppressed_cells"])
    result.files = _release(root, export_id, frame, dictionary)
    return result


def _release(root: Path, export_id: str, frame: pd.DataFrame, dictionary: dict) -> dict[str, str]:
    """Write a new version folder, then point ``<root>/<export_id>`` at it in one atomic rename."""
    if not EXPORT_ID.match(export_id):
        raise ValueError(f"export name {export_id!r} is not a plain file name")
    version = root / VERSIONS / f"{export_id}-{uuid.uuid4().hex[:12]}"
    version.mkdir(parents=True)
    frame.to_csv(version / f"{export_id}.csv", index=False)
    frame.to_parquet(version / f"{export_id}.parquet", index=False)
    _write_json(version / f"{export_id}.dictionary.json", dictionary)
    link = root / export_id
    previous = link.resolve() if link.is_symlink() else None
    tmp = root / f".{export_id}.{uuid.uuid4().hex}.tmp"
    tmp.symlink_to(Path(VERSIONS) / version.name)
    os.replace(tmp, link)
    if previous and previous.parent == (root / VERSIONS).resolve():
        shutil.rmtree(previous, ignore_errors=True)
    return {kind: f"{export_id}/{export_id}.{suffix}" for kind, suffix in
            (("csv", "csv"), ("parquet", "parquet"), ("dictionary", "dictionary.json"))}


def _withdraw(root: Path, export_id: str) -> None:
    link = root / export_id
    if EXPORT_ID.match(export_id) and link.is_symlink():
        target = link.resolve()
        link.unlink()
        if target.parent == (root / VERSIONS).resolve():
            shutil.rmtree(target, ignore_errors=True)


def _write_json(path: Path, data) -> None:
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex}.tmp")
    tmp.write_text(json.dumps(data, indent=2, default=str), encoding="utf-8")
    os.replace(tmp, path)
