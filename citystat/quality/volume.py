"""Volume anomalies of file drops: exports that never arrived, read from the file names against the
dataset's cadence.

Exports carry their period in the name (``vacant_cases_2024-12-30.csv``, ``gl_expenditures_2024-12.csv``,
``paving_weekly_2024-08-23.xlsx``). Between the first and the last period seen (landed or still in the
drop folder), every period of a daily, weekly or monthly dataset should have its file; a short run of
missing periods is a missing export. A long run is a pause of the source (a paving season's winter) and is
reported as such, not as missing exports.
"""
from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from pathlib import Path

from data_inventory import DatasetRef
from citystat.connectors.base import SourceError
from citystat.connectors.file_drop import FileDropConnector
from citystat.ingestion import is_file_drop, source_spec
from citystat.landing import Landing

# cadence -> (period step, longest run of missing periods still called missing exports rather than a pause).
# Weekly paving reports are only written in weeks with work, so two quiet weeks in a row read as a pause.
CADENCES = {"daily": ("day", 7), "weekly": ("week", 1), "monthly": ("month", 2)}
_DATE = re.compile(r"(\d{4})-(\d{2})(?:-(\d{2}))?")


@dataclass
class VolumeFindings:
    dataset: str
    cadence: str
    periods_seen: int = 0
    first: dt.date | None = None
    last: dt.date | None = None
    missing: list[dt.date] = field(default_factory=list)
    pauses: list[tuple[dt.date, dt.date]] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.missing

    def describe(self) -> str:
        if self.missing:
            shown = ", ".join(d.isoformat() for d in self.missing[:10]) + (" ..." if len(self.missing) > 10 else "")
            return f"{self.dataset}: {len(self.missing)} {self.cadence} export(s) missing between {self.first} and {self.last}: {shown}"
        return f"{self.dataset}: every {self.cadence} export present from {self.first} to {self.last} ({self.periods_seen} periods)"


def period_of(name: str) -> dt.date | None:
    """The period a file name carries (a month is its first day)."""
    m = _DATE.search(name)
    if not m:
        return None
    try:
        return dt.date(int(m.group(1)), int(m.group(2)), int(m.group(3) or 1))
    except ValueError:
        return None


def _step(day: dt.date, unit: str) -> dt.date:
    if unit == "day":
        return day + dt.timedelta(days=1)
    if unit == "week":
        return day + dt.timedelta(days=7)
    return (day.replace(day=1) + dt.timedelta(days=32)).replace(day=1)


def file_names(ref: DatasetRef, landing: Landing, data_dir: Path) -> set[str]:
    """Every file of the dataset that arrived: landed (ledger) or waiting/rejected in the drop folder."""
    names = {f["file"] for e in landing.entries(*ref.key) for f in e.get("files", ())}
    try:
        names |= {p.name for p in FileDropConnector(source_spec(ref, data_dir)).files()}
    except SourceError:
        pass
    return names


def missing_exports(ref: DatasetRef, names: set[str]) -> VolumeFindings | None:
    """Gaps in the periods of the given file names; None when the cadence has no period per file."""
    cadence = ref.dataset.cadence
    if not is_file_drop(ref) or cadence not in CADENCES:
        return None
    unit, longest_gap = CADENCES[cadence]
    periods = sorted({p for p in map(period_of, names) if p is not None})
    findings = VolumeFindings(ref.name, cadence, periods_seen=len(periods))
    if not periods:
        return findings
    findings.first, findings.last = periods[0], periods[-1]
    for previous, current in zip(periods, periods[1:]):
        gap, expected = [], _step(previous, unit)
        while expected < current:
            gap.append(expected)
            expected = _step(expected, unit)
        if len(gap) > longest_gap:
            findings.pauses.append((gap[0], gap[-1]))
        else:
            findings.missing += gap
    return findings


def check_volume(ref: DatasetRef, landing: Landing, data_dir: Path) -> VolumeFindings | None:
    return missing_exports(ref, file_names(ref, landing, data_dir))
