"""How well the quality gates catch the demo city's injected defects (its ``defects.json`` ground truth).

A record counts as caught when any gate flags it in its dataset: a GX expectation (warning or error) on the
landed batches, a dbt quarantine row, a drifted file (``schema_drift``: record ids are file names) or a
missing export (``missing_export``: record ids are dates). Per defect class: records injected, caught,
recall; row-level recall over the record classes; and, run on a clean city (``--clean``), every flag is a
false alarm.
"""
from __future__ import annotations

import json
import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from data_inventory import DatasetRef, Inventory
from citystat.ingestion import is_automated
from citystat.landing import Landing
from citystat.quality.drift import drifted_files
from citystat.quality.reconciliation import STAGED_KEY_EXPRESSIONS, model_names
from citystat.quality.validation import raw_suite, validate_batches
from citystat.quality.volume import check_volume
from citystat.warehouse import has_table

FILE_LEVEL_CLASSES = {"missing_export", "schema_drift"}
DETECTORS = ("gx", "quarantine", "drift", "volume")


@dataclass
class Flags:
    """Record ids each gate flagged, per dataset."""
    by_dataset: dict[str, dict[str, set[str]]] = field(default_factory=lambda: defaultdict(lambda: {d: set() for d in DETECTORS}))
    seconds: dict[str, float] = field(default_factory=lambda: defaultdict(float))

    def caught(self, dataset: str) -> set[str]:
        return set().union(*self.by_dataset[dataset].values()) if dataset in self.by_dataset else set()

    def total(self) -> int:
        return sum(len(self.caught(d)) for d in list(self.by_dataset))


@dataclass
class ClassDetection:
    defect_class: str
    dataset: str
    injected: int
    caught: int
    by: dict[str, int]
    missed: list[str]

    @property
    def recall(self) -> float:
        return self.caught / self.injected if self.injected else 1.0


def quarantined_ids(ref: DatasetRef, con: duckdb.DuckDBPyConnection) -> set[str]:
    suite = raw_suite(ref)
    fields = suite.record_id if suite else list(ref.dataset.primary_key)
    table = model_names(ref)["quarantine"]
    if not has_table(con, table):
        return set()
    renamed = STAGED_KEY_EXPRESSIONS.get(ref.key, {})
    parts = ", ".join(f"coalesce(cast({renamed.get(f, f)} AS varchar), '')" for f in fields)
    return {row[0] for row in con.execute(f"SELECT DISTINCT concat_ws('@', {parts}) FROM {table}").fetchall()}


def collect_flags(inventory: Inventory, landing: Landing, data_dir: Path, con: duckdb.DuckDBPyConnection | None,
                  *, docs_dir: Path | None = None) -> Flags:
    """Run every gate over everything landed (and the warehouse ``con``, when given) and collect what it flags."""
    flags = Flags()
    for ref in inventory.datasets():
        if not is_automated(ref) or not landing.entries(*ref.key):
            continue
        found = flags.by_dataset[ref.name]
        started = time.perf_counter()
        if raw_suite(ref) is not None:
            found["gx"] = validate_batches(ref, landing, inventory, docs_dir=docs_dir).unexpected_ids()
        flags.seconds["gx"] += time.perf_counter() - started
        started = time.perf_counter()
        if con is not None:
            found["quarantine"] = quarantined_ids(ref, con)
        flags.seconds["quarantine"] += time.perf_counter() - started
        started = time.perf_counter()
        found["drift"] = {d.file for d in drifted_files(ref, landing, data_dir)}
        volume = check_volume(ref, landing, data_dir)
        found["volume"] = {d.isoformat() for d in volume.missing} if volume else set()
        flags.seconds["drift_and_volume"] += time.perf_counter() - started
    return flags


def load_manifest(city: Path) -> list[dict]:
    return json.loads((Path(city) / "defects.json").read_text(encoding="utf-8"))["defects"]


def detection_table(manifest: list[dict], flags: Flags) -> list[ClassDetection]:
    rows = []
    for defect in sorted(manifest, key=lambda d: (d["defect_class"], d["dataset"])):
        ids = set(defect["record_ids"])
        found = flags.by_dataset.get(defect["dataset"], {d: set() for d in DETECTORS})
        caught = ids & flags.caught(defect["dataset"])
        rows.append(ClassDetection(defect["defect_class"], defect["dataset"], len(ids), len(caught),
                                   {d: len(ids & found[d]) for d in DETECTORS}, sorted(ids - caught)[:5]))
    return rows


def row_level_recall(rows: list[ClassDetection]) -> float:
    injected = sum(r.injected for r in rows if r.defect_class not in FILE_LEVEL_CLASSES)
    caught = sum(r.caught for r in rows if r.defect_class not in FILE_LEVEL_CLASSES)
    return caught / injected if injected else 1.0


def by_class(rows: list[ClassDetection]) -> dict[str, tuple[int, int]]:
    totals: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for r in rows:
        totals[r.defect_class][0] += r.injected
        totals[r.defect_class][1] += r.caught
    return {k: (v[0], v[1]) for k, v in sorted(totals.items())}


def false_alarms(flags: Flags) -> dict[str, dict[str, list[str]]]:
    """On a clean city every flag is a false alarm: dataset -> gate -> a few of the flagged ids."""
    return {dataset: {d: sorted(ids)[:5] for d, ids in found.items() if ids}
            for dataset, found in flags.by_dataset.items() if any(found.values())}


def format_table(rows: list[ClassDetection]) -> str:
    lines = ["| defect class | dataset | injected | caught | recall | GX | quarantine | drift | volume |",
             "|---|---|---:|---:|---:|---:|---:|---:|---:|"]
    for r in rows:
        lines.append(f"| {r.defect_class} | {r.dataset} | {r.injected} | {r.caught} | {r.recall:.1%} | "
                     + " | ".join(str(r.by[d]) for d in DETECTORS) + " |")
    injected, caught = sum(r.injected for r in rows), sum(r.caught for r in rows)
    lines.append(f"| **all** | | {injected} | {caught} | {caught / injected if injected else 1:.1%} | | | | |")
    return "\n".join(lines)
