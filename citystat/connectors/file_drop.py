"""Drop folders of CSV and XLSX exports: every new file (by name and SHA-256) lands once.

Configured from the inventory entry: ``location`` is the folder, ``source_object`` a file glob
(``gl_expenditures_*.csv``), ``sheet`` the worksheet (XLSX), ``column_mapping`` declared renames.
Values land as text exactly as the file has them. CSV streams through Arrow's reader, XLSX through
openpyxl's read-only mode, chunk by chunk, so a large file is never held in memory. A file whose
header drifts from the inventory is reported and left unlanded; the other files still land.
"""
from __future__ import annotations

import csv
import datetime as dt
import hashlib
from pathlib import Path
from typing import Iterator

import openpyxl
import pyarrow as pa
import pyarrow.csv as pacsv

from citystat.connectors.base import Chunk, LandedFile, SourceError, SourceSpec, SourceState
from citystat.connectors.drift import compare_header, mapped_header

CSV_BLOCK_BYTES = 8 << 20  # Arrow reads about this much text per chunk


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


class FileDropConnector:
    def __init__(self, spec: SourceSpec, *, chunk_rows: int = 50_000):
        self.spec, self.chunk_rows = spec, chunk_rows
        self.folder = Path(spec.location)
        self.is_xlsx = spec.connector == "xlsx_drop" or spec.source_object.lower().endswith((".xlsx", ".xlsm"))

    def files(self) -> list[Path]:
        """Files matching the glob, oldest name first (exports carry their date in the name)."""
        if not self.folder.is_dir():
            env = f" (set {self.spec.location_env} to the right folder)" if self.spec.location_env else ""
            raise SourceError(f"{self.spec.label}: drop folder {self.folder} does not exist{env}")
        return sorted(p for p in self.folder.glob(self.spec.source_object)
                      if p.is_file() and not p.name.startswith((".", "~$")))  # skip hidden and Excel lock files

    def extract(self, state: SourceState) -> Iterator[Chunk]:
        for path in self.files():
            digest = sha256_of(path)
            if (path.name, digest) in state.landed_files:
                continue
            reader = XlsxFile(path, self.spec.sheet, self.chunk_rows) if self.is_xlsx else CsvFile(path)
            try:
                header = reader.header()
            except SourceError as exc:  # unreadable header: report this file, land the others
                state.rejected_files.append(str(exc))
                continue
            drift = compare_header(header, self.spec.fields, self.spec.column_mapping)
            if drift:
                state.rejected_files.append(f"{path}: {drift.describe()}")
                reader.close()
                continue
            names = mapped_header(header, self.spec.column_mapping)
            landed = LandedFile(path.name, digest)
            for chunk in reader.chunks(names):
                landed.rows += chunk.num_rows
                yield chunk
            state.new_files.append(landed)


class CsvFile:
    def __init__(self, path: Path):
        self.path = path

    def close(self) -> None:
        """Nothing held open between ``header()`` and ``chunks()``."""

    def header(self) -> list[str]:
        try:
            with open(self.path, newline="", encoding="utf-8-sig") as f:
                return next(csv.reader(f), [])
        except (UnicodeDecodeError, csv.Error) as exc:
            raise SourceError(f"{self.path}: cannot read the header: {exc}") from exc

    def chunks(self, names: list[str]) -> Iterator[Chunk]:
        header = self.header()
        try:
            reader = pacsv.open_csv(
                self.path,
                # Threads pay off only for big files; most drops are small daily exports.
                read_options=pacsv.ReadOptions(block_size=CSV_BLOCK_BYTES,
                                               use_threads=self.path.stat().st_size > CSV_BLOCK_BYTES),
                parse_options=pacsv.ParseOptions(newlines_in_values=True),
                convert_options=pacsv.ConvertOptions(
                    column_types={name: pa.string() for name in header},
                    strings_can_be_null=False, quoted_strings_can_be_null=False,  # "" stays "", as in the file
                ),
            )
            row_number = 1
            for batch in reader:
                yield Chunk(dict(zip(names, batch.columns)), batch.num_rows, source_file=self.path.name,
                            first_row_number=row_number)
                row_number += batch.num_rows
        except pa.ArrowInvalid as exc:
            raise SourceError(f"{self.path}: malformed CSV{self._locate_ragged_row(len(header))}: {exc}") from exc

    def _locate_ragged_row(self, width: int) -> str:
        """Arrow does not say where a bad row is when values may span lines; find it (error path only)."""
        with open(self.path, newline="", encoding="utf-8-sig", errors="replace") as f:
            rows = csv.reader(f)
            next(rows, None)
            for record, row in enumerate(rows, 1):
                if len(row) != width:
                    return f" at line {rows.line_num} (data row {record}: {len(row)} fields, the header has {width})"
        return ""


class XlsxFile:
    """One workbook, opened once: ``header()`` reads the first row, ``chunks()`` streams the rest."""

    def __init__(self, path: Path, sheet: str | None, chunk_rows: int):
        self.path, self.sheet, self.chunk_rows = path, sheet, chunk_rows
        self._workbook = None
        self._rows = None

    def _open(self):
        try:
            self._workbook = openpyxl.load_workbook(self.path, read_only=True, data_only=True)
        except Exception as exc:  # openpyxl raises zipfile/KeyError/InvalidFileException on broken files
            raise SourceError(f"{self.path}: not a readable XLSX workbook: {exc}") from exc
        names = self._workbook.sheetnames
        if self.sheet and self.sheet not in names:
            self.close()
            raise SourceError(f"{self.path}: no sheet {self.sheet!r} (sheets: {', '.join(names)})")
        worksheet = self._workbook[self.sheet] if self.sheet else self._workbook.worksheets[0]
        self._title = worksheet.title
        self._rows = worksheet.iter_rows()

    def close(self) -> None:
        if self._workbook is not None:
            self._workbook.close()
            self._workbook = self._rows = None

    def header(self) -> list[str]:
        self._open()
        first = next(self._rows, ())
        header = [None if c.value is None else str(c.value).strip() for c in first]
        while header and header[-1] in (None, ""):
            header.pop()
        if any(h in (None, "") for h in header):
            self.close()
            raise SourceError(f"{self.path}: sheet {self._title!r} has a column without a header: {header}")
        return header

    def _chunk(self, names: list[str], columns: list[list], count: int, first: int) -> Chunk:
        return Chunk(dict(zip(names, columns)), count, source_file=self.path.name, first_row_number=first)

    def chunks(self, names: list[str]) -> Iterator[Chunk]:
        if self._rows is None:
            self.header()
        width = len(names)
        try:
            columns: list[list] = [[] for _ in names]
            records = count = 0  # records: non-blank data rows so far (the _row_number, as for CSV)
            for cells in self._rows:
                values = [cell_text(c) for c in cells]
                if all(v is None or v == "" for v in values):
                    continue  # blank spacer rows carry no data
                records += 1
                if any(v not in (None, "") for v in values[width:]):
                    raise SourceError(f"{self.path}: sheet {self._title!r} data row {records} has values beyond "
                                      f"the {width} headed columns")
                for column, value in zip(columns, (values + [None] * width)[:width]):
                    column.append(value)
                count += 1
                if count == self.chunk_rows:
                    yield self._chunk(names, columns, count, records - count + 1)
                    columns, count = [[] for _ in names], 0
            if count:
                yield self._chunk(names, columns, count, records - count + 1)
        finally:
            self.close()


def cell_text(cell) -> str | None:
    """A cell as the text a person reads in it: dates as ISO (``YYYY-MM-DD`` / ``YYYY-MM-DD HH:MM:SS``)."""
    value = cell.value
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, dt.datetime):
        shows_time = "h" in (getattr(cell, "number_format", "") or "").lower() or value.time() != dt.time()
        return value.isoformat(sep=" ", timespec="seconds") if shows_time else value.date().isoformat()
    if isinstance(value, (dt.date, dt.time)):
        return value.isoformat()
    if isinstance(value, float):
        return repr(value)
    return str(value)
