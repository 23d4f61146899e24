"""Build the open-data exports from the published snapshot, through the privacy gate, into the released folder.

Each export (an inventory dataset or a declared aggregate) is written as CSV + Parquet + a JSON data dictionary
into one fresh release folder, with ``manifest.json`` (what is released, for data.json and the public site). Only
when every export of the run is written is ``<root>`` (a symlink) pointed at that release, in one rename: the
files and the manifest change together or not at all. An export that raises partway leaves the previous release
whole, and a held or no-longer-public export simply has no file in the new release.
"""
from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass, field
from pathlib import Path

import duckdb
import pandas as pd

from citystat.open_data.config import AggregateExport, DatasetExport, OpenDataConfig
from citystat.open_data import record
from citystat.open_data.kpi_exports import (GOAL_PROGRESS_ID, GOAL_PROGRESS_TABLES, KPI_SERIES_ID,
                                               KPI_SERIES_TABLES, goal_progress_frame, kpi_series_frame)
from citystat.open_data.privacy import mosaic_risks, scrub_sql, shape_fingerprint, suppress_cells
from citystat.open_data.review import ReviewLog
from citystat.personal_names import register as register_name_redaction
from citystat.release_folders import new_release, write_whole
from citystat.kpi.registry import shipped_kpis_the_city_lacks
from citystat.settings import another_city
from citystat.warehouse import open_file, quote_identifier, quote_table

EXPORT_ID = re.compile(r"^[a-z0-9][a-z0-9_.-]*$")
TEXT_TYPES = ("VARCHAR",)


@dataclass
class ExportResult:
    id: str
    title: str
    status: str  # released | held | not_public
    reason: str = ""
    rows: int = 0
    files: dict[str, str] = field(default_factory=dict)  # kind -> path relative to the release (and <root>)
    suppressed_cells: int = 0
    review_item: dict | None = None
    checksums: dict[str, str] = field(default_factory=dict)  # kind -> SHA-256 of the file
    kept: bool = False  # this build found its inputs unchanged and kept the previous files (not in the manifest)

    def released_entry(self) -> dict:
        """The export as manifest.json lists it."""
        entry = asdict(self)
        del entry["kept"]
        if entry["review_item"]:  # one key order whether the item was raised now or read back from the review log
            entry["review_item"] = dict(sorted(entry["review_item"].items()))
        return entry


def build_exports(snapshot: Path, inventory, config: OpenDataConfig, root: Path, review: ReviewLog,
                  full_refresh: bool = False) -> list[ExportResult]:
    """Every declared export into a new release of ``root``; an export whose inputs equal those of the last build
    (citystat/open_data/record.py) keeps its files, unless ``full_refresh``."""
    root = Path(root)
    previous = root.resolve() if root.is_symlink() else (root if root.is_dir() else None)
    recorded = {} if full_refresh else record.load(root)
    results, exports = [], {}
    with new_release(root) as staging:
        con = open_file(snapshot)
        register_name_redaction(con)  # the scrubber macro calls redact_names()
        digests = record.TableDigests(con)

        def export(export_id: str, tables: tuple[str, ...], inputs: dict, build) -> None:
            def made_of() -> dict:  # the review item is read again after a build: holding an export raises one
                return record.fingerprint({t: digests(t) for t in tables}, **inputs, k=config.k,
                                          review=review.items.get(export_id))
            entry = recorded.get(export_id)
            if entry and entry.get("fingerprint") == made_of() and record.intact(previous, entry.get("result") or {}):
                result = ExportResult(**entry["result"], kept=True)
                record.carry_over(previous, staging, entry["result"])
            else:
                result = build()
                result.checksums = {kind: record.sha256_file(staging / relative) for kind, relative in result.files.items()}
            results.append(result)
            exports[export_id] = {"fingerprint": made_of(), "result": result.released_entry()}

        try:
            for spec in config.datasets:
                export(spec.dataset, (spec.table,), {"spec": asdict(spec), "inventory": _inventory_entry(inventory, spec),
                                                     "another_city": another_city()},
                       lambda: _dataset_export(con, inventory, spec, config.k, staging, review))
            for spec in config.aggregates:
                export(spec.id, (spec.table,), {"spec": asdict(spec)}, lambda: _aggregate_export(con, spec, config.k, staging))
            kpis = tuple(kpi for kpi in config.kpis if kpi not in shipped_kpis_the_city_lacks())  # another city: its KPIs
            if kpis:
                export(KPI_SERIES_ID, KPI_SERIES_TABLES, {"kpis": kpis},
                       lambda: _frame_export(KPI_SERIES_ID, *kpi_series_frame(con, kpis, config.k), staging))
            if config.goals:
                export(GOAL_PROGRESS_ID, GOAL_PROGRESS_TABLES, {},
                       lambda: _frame_export(GOAL_PROGRESS_ID, *goal_progress_frame(con, config.k), staging))
        finally:
            con.close()
        _write_json(staging / "manifest.json",
                    {"k": config.k, "base_url": config.base_url, "exports": [r.released_entry() for r in results]})
    record.save(root, exports)  # only now: the files it describes are the released ones
    return results


def _inventory_entry(inventory, spec: DatasetExport) -> dict | None:
    try:
        system, _, name = spec.dataset.partition(".")
        return record.dataset_entry(inventory.get(system, name))
    except KeyError:
        return None


def _dataset_export(con, inventory, spec: DatasetExport, k: int, release: Path, review: ReviewLog) -> ExportResult:
    system, _, name = spec.dataset.partition(".")
    try:
        ref = inventory.get(system, name)
    except KeyError:
        if not another_city():
            raise  # the shipped configuration names a dataset the shipped inventory lacks: a mistake to fix
        return ExportResult(id=spec.dataset, title=spec.dataset, status="not_public",
                            reason="not a dataset of this city's inventory: nothing to export")
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
    missing = [q for q in spec.quasi_identifiers if q not in dict(columns)]
    if missing:
        raise ValueError(f"{spec.dataset}: quasi-identifier(s) {', '.join(missing)} are not columns of {spec.table}")

    def published(names) -> str:
        """SELECT of the columns ``names`` as the files hold them (free text scrubbed)."""
        select = ", ".join(f"{scrub_sql(c)} AS {quote_identifier(c)}" if t in TEXT_TYPES else quote_identifier(c)
                           for c, t in columns if c in names)
        return f"SELECT {select} FROM {quote_table(spec.table)}"

    fingerprint = shape_fingerprint(columns, spec.quasi_identifiers, k)
    # counted in DuckDB on the quasi-identifiers alone: a held export's rows are never read into Python
    risks = mosaic_risks(con, published(spec.quasi_identifiers), spec.quasi_identifiers, k)
    if risks and not review.approved(spec.dataset, fingerprint):
        reason = (f"{risks} combination(s) of {' + '.join(spec.quasi_identifiers)} single out fewer than {k} records "
                  "(mosaic risk): held for privacy review")
        result.status, result.reason = "held", reason
        result.review_item = review.raise_item(spec.dataset, fingerprint, reason)
        return result
    frame = con.execute(published(dict(columns))).df()
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
    result.files = _release(release, spec.dataset, frame, dictionary)
    return result


def _aggregate_export(con, spec: AggregateExport, k: int, release: Path) -> ExportResult:
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
    result.files = _release(release, spec.id, frame, dictionary)
    return result


def _frame_export(export_id: str, frame: pd.DataFrame, dictionary: dict, release: Path) -> ExportResult:
    result = ExportResult(id=export_id, title=dictionary["title"], status="released", rows=len(frame),
                          suppressed_cells=dictionary["privacy"]["suppressed_cells"])
    result.files = _release(release, export_id, frame, dictionary)
    return result


def _release(release: Path, export_id: str, frame: pd.DataFrame, dictionary: dict) -> dict[str, str]:
    """Write one export's files into the release being built; returns their paths relative to the release."""
    if not EXPORT_ID.match(export_id):
        raise ValueError(f"export name {export_id!r} is not a plain file name")
    folder = release / export_id
    folder.mkdir()
    frame.to_csv(folder / f"{export_id}.csv", index=False)
    frame.to_parquet(folder / f"{export_id}.parquet", index=False)
    _write_json(folder / f"{export_id}.dictionary.json", dictionary)
    return {kind: f"{export_id}/{export_id}.{suffix}" for kind, suffix in
            (("csv", "csv"), ("parquet", "parquet"), ("dictionary", "dictionary.json"))}


def _write_json(path: Path, data) -> None:
    write_whole(path, json.dumps(data, indent=2, default=str))
