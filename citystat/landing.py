"""Raw landing: immutable Parquet batches and the load ledger they are recorded in.

Layout (docs/contracts.md)::

    <warehouse>/landing/<system_id>/<dataset_id>/<load_id>.parquet   one batch (more parts: <load_id>.pN.parquet)
    <warehouse>/landing/_loads.jsonl                                 one JSON line per committed batch

A batch is written into a hidden temporary folder, renamed into place, then recorded in the ledger;
the ledger line is the commit. Everything a later load needs (the incremental cursor, the files
already landed, the last snapshot's fingerprint) is derived from the ledger, so a rerun of the same
load lands nothing. Extractions stream: chunks are appended as Parquet row groups, never held whole.
Loads of one dataset are serialised by a file lock; loads of different datasets run in parallel.
"""
from __future__ import annotations

import datetime as dt
import fcntl
import hashlib
import json
import logging
import os
import secrets
import shutil
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator

import pyarrow as pa
import pyarrow.parquet as pq

from citystat.connectors import FILE_DROP_CONNECTORS as FILE_CONNECTORS
from citystat.connectors.base import Chunk, Connector, SourceError, SourceSpec, SourceState
from citystat.connectors.watermark import Watermark
from citystat.locks import exclusive_lock

log = logging.getLogger(__name__)

LEDGER_NAME = "_loads.jsonl"
ROW_GROUP_ROWS = 100_000  # rows buffered per Parquet row group (bounded memory, reader-friendly groups)
META_COLUMNS = ("_load_id", "_extracted_at", "_source_cursor", "_source_file", "_row_number")



def new_load_id(now: dt.datetime | None = None) -> str:
    """Sortable by time, unique across parallel loads: ``20261123T161500123456Z-3fa9c1``."""
    now = now or dt.datetime.now(dt.timezone.utc)
    return f"{now:%Y%m%dT%H%M%S%fZ}-{secrets.token_hex(3)}"


def utc_now_iso() -> str:
    return dt.datetime.now(dt.timezone.utc).isoformat(timespec="microseconds").replace("+00:00", "Z")


@dataclass
class LoadResult:
    system_id: str
    dataset_id: str
    load_id: str | None  # None when nothing new was found (no batch written)
    rows: int
    cursor: str | None
    parts: list[Path] = field(default_factory=list)
    files: list[dict] = field(default_factory=list)
    rejected_files: list[str] = field(default_factory=list)
    set_aside: list[dict] = field(default_factory=list)  # unreadable files left unlanded: file, line, row, field, reason
    source_rows: int | None = None  # the source's own count of this batch's rows (files: the strict reading)
    latest_load_id: str | None = None  # the newest batch of this dataset after this load

    @property
    def landed(self) -> bool:
        return self.load_id is not None


def source_count(state: SourceState) -> int | None:
    """Rows the source itself says this load holds: the sum of the files' strict readings (file drops), or
    the API's own count of a snapshot; None when the source offers no count."""
    if state.new_files and all(f.source is not None for f in state.new_files):
        return sum(int(f.source["source_rows"]) for f in state.new_files)
    return state.source_count


class Landing:
    """The landing zone under ``root`` (``<warehouse>/landing``)."""

    def __init__(self, root: Path):
        self.root = Path(root)
        self.ledger_path = self.root / LEDGER_NAME

    def dataset_dir(self, system_id: str, dataset_id: str) -> Path:
        return self.root / system_id / dataset_id

    # ledger ---------------------------------------------------------------------------------------

    def entries(self, system_id: str | None = None, dataset_id: str | None = None) -> list[dict]:
        """Committed batches, oldest first (optionally of one dataset)."""
        if not self.ledger_path.exists():
            return []
        lines = self.ledger_path.read_text(encoding="utf-8").splitlines()
        entries = []
        for number, line in enumerate(lines, 1):
            if not line.strip():
                continue
            try:
                entry = json.loads(line)
            except json.JSONDecodeError as exc:
                if number == len(lines):  # torn final line of a crashed append: never committed
                    log.warning("%s line %d is incomplete; ignoring it", self.ledger_path, number)
                    continue
                raise SourceError(f"{self.ledger_path} line {number} is not valid JSON ({exc}); fix or remove it") from exc
            if (system_id is None or entry["system"] == system_id) and (dataset_id is None or entry["dataset"] == dataset_id):
                entries.append(entry)
        return entries

    def state(self, system_id: str, dataset_id: str) -> SourceState:
        """Where the next load of a dataset resumes: its cursor and the files it already landed."""
        state = SourceState()
        for entry in self.entries(system_id, dataset_id):
            if entry.get("cursor") is not None:
                state.watermark = Watermark.from_json(entry)
            state.landed_files.update((f["file"], f["sha256"]) for f in entry.get("files", ()))
        return state

    def _append(self, entry: dict) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        line = json.dumps(entry, separators=(",", ":"), default=str) + "\n"
        with open(self.ledger_path, "a", encoding="utf-8") as ledger:
            fcntl.flock(ledger, fcntl.LOCK_EX)  # parallel loads of other datasets append too
            try:
                ledger.write(line)
                ledger.flush()
                os.fsync(ledger.fileno())
            finally:
                fcntl.flock(ledger, fcntl.LOCK_UN)

    # loading --------------------------------------------------------------------------------------

    @contextmanager
    def _locked(self, directory: Path) -> Iterator[None]:
        directory.mkdir(parents=True, exist_ok=True)
        with exclusive_lock(directory / ".lock"):
            yield

    def load(self, connector: Connector) -> LoadResult:
        """Extract what is new from ``connector``'s source and commit it as one batch (or nothing)."""
        spec: SourceSpec = connector.spec
        directory = self.dataset_dir(spec.system_id, spec.dataset_id)
        with self._locked(directory):
            history = self.entries(spec.system_id, spec.dataset_id)
            self._tidy(directory, {e["load_id"] for e in history})
            state = self.state(spec.system_id, spec.dataset_id)
            previous_cursor = state.watermark.value
            snapshot = spec.connector not in FILE_CONNECTORS and not spec.cursor_field
            load_id, extracted_at = new_load_id(), utc_now_iso()
            writer = BatchWriter(directory, load_id, extracted_at, fingerprint=snapshot)
            try:
                for chunk in connector.extract(state):
                    writer.write(chunk)
            except BaseException:
                writer.abort()
                raise

            result = LoadResult(
                spec.system_id, spec.dataset_id, None, 0, state.watermark.value,
                rejected_files=list(state.rejected_files), set_aside=list(state.set_aside),
                latest_load_id=history[-1]["load_id"] if history else None,
            )
            last_snapshot = next((e for e in reversed(history) if e.get("kind") == "snapshot"), None)
            unchanged_snapshot = snapshot and last_snapshot is not None and last_snapshot.get("content_sha256") == writer.fingerprint
            if (writer.rows == 0 and not state.new_files) or unchanged_snapshot:
                writer.abort()
                return result

            source_rows = source_count(state)
            if source_rows is not None and source_rows != writer.rows:  # source = landed, or nothing commits
                writer.abort()
                raise SourceError(f"{spec.label}: the source counts {source_rows} rows but {writer.rows} were "
                                  "extracted; nothing of this load was committed")
            parts = writer.commit()
            files = [{"file": f.name, "sha256": f.sha256, "rows": f.rows, **(f.source or {})} for f in state.new_files]
            self._append({
                "load_id": load_id,
                "system": spec.system_id,
                "dataset": spec.dataset_id,
                "connector": spec.connector,
                "kind": "files" if spec.connector in FILE_CONNECTORS else "snapshot" if snapshot else "incremental",
                "rows": writer.rows,
                **({"source_rows": source_rows} if source_rows is not None else {}),
                **({"set_aside": state.set_aside} if state.set_aside else {}),
                "previous_cursor": previous_cursor,
                **state.watermark.to_json(),
                "files": files,
                "parts": [p.name for p in parts],
                "content_sha256": writer.fingerprint,
                "extracted_at": extracted_at,
                "landed_at": utc_now_iso(),
            })
            result.load_id, result.rows, result.parts, result.files = load_id, writer.rows, parts, files
            result.source_rows = source_rows
            result.latest_load_id = load_id
            return result

    def _tidy(self, directory: Path, committed: set[str]) -> None:
        """Under the dataset lock: drop temporary folders of crashed loads; set aside uncommitted parts
        (renamed out of ``*.parquet`` so readers skip them, kept for inspection)."""
        for path in directory.iterdir():
            if path.is_dir() and path.name.startswith(".tmp-"):
                shutil.rmtree(path, ignore_errors=True)
            elif path.suffix == ".parquet" and path.name.split(".", 1)[0] not in committed:
                log.warning("%s was never recorded in the ledger; renaming it to %s.orphaned", path, path.name)
                path.rename(path.with_name(path.name + ".orphaned"))


class BatchWriter:
    """Streams chunks into Parquet parts of one batch, adding the landing's metadata columns.

    Source column types follow the values (text, integers, floats, booleans, dates, naive
    timestamps; anything else as text). A chunk whose values no longer fit the part's schema
    (a new column, text in a numeric column) starts a new part instead of being coerced.
    """

    def __init__(self, directory: Path, load_id: str, extracted_at: str, *, fingerprint: bool = False):
        self.directory, self.load_id, self.extracted_at = directory, load_id, extracted_at
        self.tmp_dir = directory / f".tmp-{load_id}"
        self.rows = 0
        self._parts: list[Path] = []
        self._writer: pq.ParquetWriter | None = None
        self._source_schema: pa.Schema | None = None
        self._pending: list[pa.Table] = []  # chunks not yet written, at most ~ROW_GROUP_ROWS rows
        self._pending_rows = 0
        self._hash = hashlib.sha256() if fingerprint else None

    @property
    def fingerprint(self) -> str | None:
        """SHA-256 of the source values (snapshot loads: an unchanged snapshot is not landed again)."""
        return self._hash.hexdigest() if self._hash else None

    def write(self, chunk: Chunk) -> None:
        if chunk.num_rows == 0:
            return
        clash = set(chunk.columns) & set(META_COLUMNS)
        if clash:
            raise SourceError(f"source columns {sorted(clash)} clash with the landing's metadata columns")
        if self._hash is not None:
            for name, values in chunk.columns.items():
                self._hash.update(repr((name, values if isinstance(values, list) else values.to_pylist())).encode())
        source = self._source_table(chunk)
        if self._writer is None or source.schema != self._source_schema:
            self._open_part(source.schema)
        n = chunk.num_rows
        first = chunk.first_row_number if chunk.first_row_number is not None else self.rows + 1
        cursor = chunk.cursor_values
        meta = [
            pa.array([self.load_id] * n, pa.string()),
            pa.array([self.extracted_at] * n, pa.string()),
            pa.array([None if v is None else str(v) for v in cursor], pa.string()) if cursor is not None else pa.nulls(n, pa.string()),
            pa.array([chunk.source_file] * n, pa.string()),
            pa.array(range(first, first + n), pa.int64()),
        ]
        self._pending.append(pa.Table.from_arrays([*source.columns, *meta], schema=self._writer.schema))
        self._pending_rows += n
        self.rows += n
        if self._pending_rows >= ROW_GROUP_ROWS:
            self._flush()

    def _flush(self) -> None:
        """Write buffered chunks as one row group: many small files (daily drops) must not make tiny groups."""
        if self._pending:
            self._writer.write_table(pa.concat_tables(self._pending), row_group_size=max(self._pending_rows, 1))
            self._pending, self._pending_rows = [], 0

    def _source_table(self, chunk: Chunk) -> pa.Table:
        current = {f.name: f.type for f in self._source_schema} if self._source_schema is not None else {}
        names = list(current) + [name for name in chunk.columns if name not in current]
        arrays = []
        for name in names:
            values = chunk.columns.get(name)
            if values is None:
                arrays.append(pa.nulls(chunk.num_rows, current[name]))
                continue
            array = to_arrow(values, current[name]) if name in current else None
            arrays.append(array if array is not None else to_arrow(values, infer_type(values)) or to_arrow(values, pa.string()))
        return pa.Table.from_arrays(arrays, names=names)

    def _open_part(self, source_schema: pa.Schema) -> None:
        if self._writer is not None:
            self._flush()
            self._writer.close()
        self.tmp_dir.mkdir(parents=True, exist_ok=True)
        suffix = "" if not self._parts else f".p{len(self._parts) + 1}"
        path = self.tmp_dir / f"{self.load_id}{suffix}.parquet"
        schema = source_schema
        for name in META_COLUMNS:
            schema = schema.append(pa.field(name, pa.int64() if name == "_row_number" else pa.string()))
        self._writer = pq.ParquetWriter(path, schema, compression="zstd")
        self._source_schema = source_schema
        self._parts.append(path)

    def commit(self) -> list[Path]:
        """Move the parts into place (readers glob ``*.parquet`` in the dataset folder)."""
        if self._writer is not None:
            self._flush()
            self._writer.close()
            self._writer = None
        final = []
        for path in self._parts:
            target = self.directory / path.name
            os.replace(path, target)
            final.append(target)
        shutil.rmtree(self.tmp_dir, ignore_errors=True)
        return final

    def abort(self) -> None:
        self._pending, self._pending_rows = [], 0
        if self._writer is not None:
            self._writer.close()
            self._writer = None
        shutil.rmtree(self.tmp_dir, ignore_errors=True)


# value typing ------------------------------------------------------------------------------------


def infer_type(values) -> pa.DataType:
    """The Arrow type that holds every value without loss; text when they disagree."""
    if isinstance(values, pa.Array):
        return values.type
    kinds = {type(v) for v in values if v is not None}
    if kinds == {bool}:
        return pa.bool_()
    if kinds == {int}:
        return pa.int64()
    if kinds and kinds <= {int, float}:
        return pa.float64()
    if kinds == {dt.date}:
        return pa.date32()
    if kinds == {dt.datetime} and all(v.tzinfo is None for v in values if v is not None):
        return pa.timestamp("us")
    return pa.string()


def to_arrow(values, type_: pa.DataType) -> pa.Array | None:
    """``values`` as an Arrow array of ``type_``; None when they do not fit (text always fits)."""
    if isinstance(values, pa.Array):
        if values.type == type_:
            return values
        try:
            return values.cast(type_)
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            return None
    if pa.types.is_string(type_):
        return pa.array([as_text(v) for v in values], pa.string())
    try:
        return pa.array(values, type=type_)
    except (pa.ArrowInvalid, pa.ArrowTypeError, OverflowError, TypeError, ValueError):
        return None


def as_text(value) -> str | None:
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, (bytes, bytearray, memoryview)):
        return bytes(value).hex()
    if isinstance(value, (dict, list, tuple)):
        return json.dumps(value, default=str, ensure_ascii=False)
    if isinstance(value, dt.datetime):
        return value.isoformat(sep=" ")
    return str(value)
