"""What every connector shares: the source description taken from an inventory entry, the chunks it
streams to the landing, the state it resumes from, and the errors it raises."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterator, Protocol

import pyarrow as pa

from citystat.connectors.watermark import Watermark


@dataclass(frozen=True)
class SourceSpec:
    """Everything a connector needs, read from one inventory dataset entry (nothing else configures it)."""

    system_id: str
    dataset_id: str
    connector: str  # open311 | soda | sqlite | postgres | csv_drop | xlsx_drop
    location: str  # resolved URL, SQLAlchemy URL, database path or drop folder
    source_object: str  # Open311 endpoint, SODA resource id, table, or file glob
    location_env: str | None = None
    cursor_field: str | None = None
    primary_key: tuple[str, ...] = ()
    sheet: str | None = None
    column_mapping: dict[str, str] = field(default_factory=dict)
    fields: tuple[str, ...] = ()  # declared column names, in inventory order

    @property
    def label(self) -> str:
        return f"{self.system_id}.{self.dataset_id}"


@dataclass
class Chunk:
    """A slice of extracted rows, small enough to hold in memory.

    ``columns`` maps a column name to its values: a Python list (typed by the landing) or an Arrow
    array (used as is). Rows of one chunk come from one source file at most.
    """

    columns: dict[str, list | pa.Array]
    num_rows: int
    source_file: str | None = None
    first_row_number: int | None = None  # 1-based position in the source file; None = continue the load's count
    cursor_values: list | None = None  # each row's cursor-field value

    @classmethod
    def from_records(cls, records: list[dict], cursor_field: str | None = None, columns=()) -> "Chunk":
        """Rows as dicts; ``columns`` (e.g. an API's declared field list) are kept even when every value is absent."""
        names: dict[str, None] = dict.fromkeys(columns)
        for record in records:
            names.update(dict.fromkeys(record))
        columns = {name: [record.get(name) for record in records] for name in names}
        cursor_values = columns.get(cursor_field) if cursor_field else None
        return cls(columns, len(records), cursor_values=cursor_values)


@dataclass
class LandedFile:
    name: str
    sha256: str
    rows: int = 0
    source: dict | None = None  # the independent reading of the file (source_rows, lines, encoding, ...)


@dataclass
class SourceState:
    """What earlier loads landed (from the ledger); connectors update it as rows flow to the landing."""

    watermark: Watermark = field(default_factory=Watermark)
    landed_files: set[tuple[str, str]] = field(default_factory=set)  # (file name, sha256)
    new_files: list[LandedFile] = field(default_factory=list)
    rejected_files: list[str] = field(default_factory=list)  # problems of files left unlanded
    set_aside: list[dict] = field(default_factory=list)  # unreadable files: file, path, line, row, field, reason
    source_count: int | None = None  # rows the source says match this load (an API's own count), if offered


class Connector(Protocol):
    spec: SourceSpec

    def extract(self, state: SourceState) -> Iterator[Chunk]:
        """Stream the rows not landed yet, advancing ``state`` as they are yielded."""


class SourceUnavailable(RuntimeError):
    """The source stayed down (or kept failing) after every retry."""

    def __init__(self, spec: SourceSpec, where: str, attempts: int, last_error: str, elapsed: float | None = None):
        self.spec, self.where, self.attempts, self.last_error, self.elapsed = spec, where, attempts, last_error, elapsed
        took = f" ({elapsed:.1f} s elapsed)" if elapsed is not None else ""
        super().__init__(f"{spec.label}: {where} failed after {attempts} attempt(s): {last_error}{took}")


class SourceError(RuntimeError):
    """The source answered, but with something the connector cannot land (bad request, bad file)."""


class SchemaDrift(SourceError):
    """Files whose columns differ from the inventory; they were not landed."""

    def __init__(self, spec: SourceSpec, problems: list[str]):
        self.problems = problems
        super().__init__(
            f"{spec.label}: {len(problems)} file(s) not landed because their columns differ from the inventory "
            "(declare a column_mapping or fix the fields, then rerun):\n" + "\n".join(f"  - {p}" for p in problems)
        )
