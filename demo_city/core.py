"""Shared generation context: calendar, seeded randomness, chunking and the defect ledger.

Every system module exposes ``generate(ctx)`` and ``advance(ctx, start, end)`` and uses only this
context, so systems stay independent and output is a pure function of (seed, scale, as_of, clean).
"""
from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

POPULATION = 350_000
DEFAULT_SEED = 42
DEFAULT_AS_OF = dt.date(2026, 10, 31)
CHUNK_ROWS = 200_000  # rows held in memory at once by any generator; bounds peak memory at large scale


def fiscal_year(day: dt.date) -> int:
    """Fiscal year (July–June) named by the calendar year it ends in."""
    return day.year + 1 if day.month >= 7 else day.year


def history_start(as_of: dt.date) -> dt.date:
    """July 1 three fiscal years before the fiscal year of ``as_of``."""
    return dt.date(fiscal_year(as_of) - 4, 7, 1)


class DefectLog:
    """Ground truth of injected defects: class -> dataset -> record ids."""

    def __init__(self) -> None:
        self._ids: dict[tuple[str, str], list[str]] = defaultdict(list)
        self._descriptions: dict[tuple[str, str], str] = {}  # per (class, dataset): one class means different things per dataset

    def add(self, defect_class: str, dataset: str, record_ids, description: str) -> None:
        self._ids[(defect_class, dataset)].extend(str(r) for r in record_ids)
        self._descriptions[(defect_class, dataset)] = description

    def to_json(self) -> dict:
        return {
            "defects": [
                {
                    "defect_class": cls,
                    "dataset": ds,
                    "record_ids": sorted(set(ids)),
                    "description": self._descriptions[(cls, ds)],
                }
                for (cls, ds), ids in sorted(self._ids.items())
            ]
        }

    @classmethod
    def load(cls, path: Path) -> "DefectLog":
        log = cls()
        if path.exists():
            for d in json.loads(path.read_text())["defects"]:
                log.add(d["defect_class"], d["dataset"], d["record_ids"], d["description"])
        return log


@dataclass
class GenContext:
    out: Path
    seed: int = DEFAULT_SEED
    scale: float = 1.0
    as_of: dt.date = DEFAULT_AS_OF
    clean: bool = False
    defects: DefectLog = field(default_factory=DefectLog)
    row_counts: dict[str, int] = field(default_factory=dict)
    on_rows: object = None  # optional callback(dataset, n) for progress bars
    first_day: dt.date | None = None  # fixed at generation; `advance` must not move it

    @property
    def start(self) -> dt.date:
        return self.first_day or history_start(self.as_of)

    @property
    def population(self) -> int:
        return POPULATION

    def rng(self, *names: object) -> np.random.Generator:
        """A generator seeded by (seed, names): each system/chunk/day draws independently and reproducibly."""
        digest = hashlib.sha256(repr((self.seed, *names)).encode()).digest()
        return np.random.default_rng(int.from_bytes(digest[:8], "little"))

    def count(self, dataset: str, n: int) -> None:
        self.row_counts[dataset] = self.row_counts.get(dataset, 0) + int(n)
        if self.on_rows:
            self.on_rows(dataset, int(n))

    def path(self, *parts: str) -> Path:
        p = self.out.joinpath(*parts)
        p.parent.mkdir(parents=True, exist_ok=True)
        return p

    def days(self, start: dt.date | None = None, end: dt.date | None = None):
        day, end = start or self.start, end or self.as_of
        while day <= end:
            yield day
            day += dt.timedelta(days=1)
