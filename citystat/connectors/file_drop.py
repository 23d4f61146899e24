"""Drop folders of CSV and XLSX exports: every new file (by name and SHA-256) lands once.

Configured from the inventory entry: ``location`` is the folder, ``source_object`` a file glob
(``gl_expenditures_*.csv``), ``sheet`` the worksheet (XLSX), ``column_mapping`` declared renames.
Values land as text exactly as the file has them. CSV streams through Arrow's reader, XLSX through
openpyxl's read-only mode, chunk by chunk, so a large file is never held in memory. A file whose
header drifts from the inventory is reported and left unlanded; the other files still land.

Before a CSV file lands it is read once more, strictly, by an independent reader (Python's csv module)
that accounts for every physical line: encoding detected (UTF-8, else charset-normalizer), delimiter
sniffed (csv.Sniffer) when the header has no comma. A file it cannot account for (unterminated or
truncated quoted value, ragged row, oversized value, bad bytes, empty file) is set aside with the file,
line, data row and field named (never its content) and the other files still land. The record count
of that reading is the file's source count in the ledger; the landing refuses to commit a batch whose
rows differ from it.
"""
from __future__ import annotations

import codecs
import csv
import datetime as dt
import hashlib
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import charset_normalizer
import openpyxl
import pyarrow as pa
import pyarrow.csv as pacsv

from data_inventory.paths import files_in_folder
from citystat.connectors.base import Chunk, LandedFile, SourceError, SourceSpec, SourceState
from citystat.connectors.drift import compare_header, mapped_header

CSV_BLOCK_BYTES = 8 << 20  # Arrow reads about this much text per chunk


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


# --- source audit: an independent reading of a CSV file before anything of it lands ---------------

FIELD_LIMIT = 1 << 20  # characters in one value; a longer value is refused (a runaway quote or a bad export)
SNIFF_DELIMITERS = ";\t|"  # tried (csv.Sniffer) only when the header line holds no comma
WESTERN = "cp1252"  # the usual encoding of Windows exports that are not UTF-8


class FileRejected(SourceError):
    """A file that cannot land as is: set aside (left in its folder, unlanded) with where it went wrong.

    The message names the file, line, data row and field; never the file's content."""

    def __init__(self, path: Path, reason: str, *, line: int | None = None, row: int | None = None,
                 field: str | None = None):
        self.path, self.reason, self.line, self.row, self.field = Path(path), reason, line, row, field
        where = [f"line {line}" if line else "", f"data row {row}" if row else "", f"field {field!r}" if field else ""]
        where_text = ", ".join(w for w in where if w)
        super().__init__(f"{self.path}: {where_text + ': ' if where_text else ''}{reason}")

    def as_json(self) -> dict:
        return {"file": self.path.name, "path": str(self.path), "line": self.line, "row": self.row,
                "field": self.field, "reason": self.reason}


@dataclass
class CsvProfile:
    """What an independent strict reading of a CSV file found: every physical line accounted for."""

    encoding: str
    delimiter: str
    header: list[str]
    records: int  # data rows (what must land)
    lines: int  # physical lines (header + data rows' lines + blank lines)
    blank_lines: int

    def as_json(self) -> dict:
        return {"encoding": self.encoding, "delimiter": self.delimiter, "source_rows": self.records,
                "lines": self.lines, "blank_lines": self.blank_lines}


def _line_of(path: Path, offset: int) -> int:
    """1-based line holding byte ``offset``."""
    line, done = 1, 0
    with open(path, "rb") as f:
        while done < offset:
            block = f.read(min(1 << 20, offset - done))
            if not block:
                break
            line += block.count(b"\n")
            done += len(block)
    return line


def _first_undecodable(path: Path, encoding: str) -> int | None:
    """Byte offset of the first byte ``encoding`` cannot decode, or None when the whole file decodes."""
    decoder = codecs.getincrementaldecoder(encoding)("strict")
    offset = 0
    with open(path, "rb") as f:
        while True:
            block = f.read(1 << 20)
            try:
                decoder.decode(block, final=not block)
            except UnicodeDecodeError as exc:
                return offset + max(exc.start, 0)
            if not block:
                return None
            offset += len(block)


_UTF8_MULTIBYTE = re.compile(rb"[\xc2-\xdf][\x80-\xbf]|[\xe0-\xef][\x80-\xbf]{2}|[\xf0-\xf4][\x80-\xbf]{3}")


def detect_encoding(path: Path) -> tuple[str, None] | tuple[None, FileRejected]:
    """UTF-8 (with or without BOM) when it decodes; else what charset-normalizer detects, when that is a
    Unicode encoding or Windows-1252; else a rejection naming the line of the bad byte (its ``encoding``
    attribute: the encoding the rest of the file reads in, to name the row and field)."""
    bad = _first_undecodable(path, "utf-8")
    if bad is None:
        with open(path, "rb") as f:
            return ("utf-8-sig" if f.read(3) == codecs.BOM_UTF8 else "utf-8"), None
    with open(path, "rb") as f:
        sample = f.read(1 << 20)
    looks_utf8 = bool(_UTF8_MULTIBYTE.search(sample))  # valid multi-byte sequences: a UTF-8 file with bad bytes
    utf16 = sample[:2] in (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)
    matches = charset_normalizer.from_path(path) if utf16 or not looks_utf8 else []
    candidates = []
    for match in matches:
        if match.encoding.startswith(("utf_16", "utf_32")):
            candidates.append(match.encoding)
        elif WESTERN in match.could_be_from_charset:
            candidates.append(WESTERN)
    for encoding in candidates:
        if _first_undecodable(path, encoding) is None:
            return encoding, None
    best = matches.best() if matches else None
    guess = best.encoding if best else "none"
    if not looks_utf8:  # a single-byte export: name the byte Windows-1252 cannot read, not the first non-ASCII one
        western_bad = _first_undecodable(path, WESTERN)
        if western_bad is not None:
            problem = FileRejected(path, f"byte {bad_byte(path, western_bad)} is not valid Windows-1252 and the "
                                         f"file is not UTF-8 either (charset-normalizer's guess: {guess})",
                                   line=_line_of(path, western_bad))
            problem.encoding = WESTERN
            return None, problem
    problem = FileRejected(path, f"byte {bad_byte(path, bad)} is not valid UTF-8 "
                                 f"(nor Windows-1252; charset-normalizer's guess: {guess})", line=_line_of(path, bad))
    problem.encoding = "utf-8"
    return None, problem


def bad_byte(path: Path, offset: int) -> str:
    with open(path, "rb") as f:
        f.seek(offset)
        return f"0x{f.read(1).hex()}"


def sniff_delimiter(first_line: str) -> str:
    if "," in first_line or not any(d in first_line for d in SNIFF_DELIMITERS):
        return ","
    try:
        return csv.Sniffer().sniff(first_line, delimiters=SNIFF_DELIMITERS).delimiter
    except csv.Error:
        return ","


class _CountedLines:
    """The file's lines, counted as the csv reader pulls them."""

    def __init__(self, f):
        self.f, self.count = f, 0

    def __iter__(self):
        return self

    def __next__(self) -> str:
        line = next(self.f)
        self.count += 1
        return line


def _field_in_trouble(path: Path, encoding: str, start_line: int, delimiter: str, limit: int) -> tuple[int, str]:
    """(0-based field index, what is wrong) in the record starting at ``start_line``, by a small tokenizer
    (error path only; reads at most the record's text up to the end of the trouble)."""
    with open(path, encoding=encoding, errors="replace", newline="") as f:
        for _ in range(start_line - 1):
            if not f.readline():
                break
        text = f.read(limit * 4 + (1 << 16))
    quoted = re.compile(r'"[^"]*(?:""[^"]*)*"')
    plain = re.compile(r'[^' + re.escape(delimiter) + r'"\r\n]*')
    pos = index = 0
    while True:
        if text.startswith('"', pos):
            match = quoted.match(text, pos)
            if match is None:
                return index, "a quoted value that never closes"
        else:
            match = plain.match(text, pos)
        end = match.end()
        if end - pos > limit:
            return index, f"a value longer than {limit} characters"
        if end >= len(text) or text[end] in "\r\n":
            return index, ""
        if text[end] != delimiter:
            return index, f"unexpected {'quote' if text[end] == chr(34) else 'character'} after the value"
        pos, index = end + 1, index + 1


def audit_csv(path: Path, *, field_limit: int | None = None) -> CsvProfile:
    """Read the whole file strictly (Python's csv module, an independent reader) and account for every
    physical line; raise ``FileRejected`` naming line, data row and field when it cannot."""
    limit = field_limit or FIELD_LIMIT
    if path.stat().st_size == 0:
        raise FileRejected(path, "empty file: no header line (a half-written export?)")
    encoding, problem = detect_encoding(path)
    if problem:
        raise _name_field(problem, path, limit)
    with open(path, encoding=encoding, newline="") as f:
        first = f.readline()
    if not first.strip():
        raise FileRejected(path, "the first line is blank: no header", line=1)
    delimiter = sniff_delimiter(first)
    saved = csv.field_size_limit()
    csv.field_size_limit(limit)
    header: list[str] = []
    records = blank = 0
    start = 1
    try:
        with open(path, encoding=encoding, newline="") as f:
            lines = _CountedLines(f)
            reader = csv.reader(lines, delimiter=delimiter, quotechar='"', doublequote=True, strict=True)
            while True:
                start = lines.count + 1
                try:
                    row = next(reader)
                except StopIteration:
                    break
                if not row:
                    blank += 1
                    continue
                if not header:
                    header = row
                    continue
                records += 1
                if lines.count > start:  # a quoted value spans lines: do they hide whole rows (an unbalanced quote)?
                    _refuse_swallowed_rows(path, row, header, delimiter, start, records)
                if len(row) != len(header):
                    index = min(len(row), len(header))
                    name = header[index] if index < len(header) else f"#{index + 1} (beyond the header)"
                    raise FileRejected(path, f"{len(row)} fields, the header has {len(header)} (a ragged row)",
                                       line=start, row=records, field=name)
            total = lines.count
    except csv.Error as exc:
        index, what = _field_in_trouble(path, encoding, start, delimiter, limit)
        names = header or []
        name = names[index] if index < len(names) else f"#{index + 1}"
        raise FileRejected(path, f"malformed CSV ({exc}){': ' + what if what else ''}; nothing of this file landed",
                           line=start, row=records + 1 if header else None, field=name) from None
    except UnicodeDecodeError as exc:  # not expected after detection; still named
        raise FileRejected(path, f"cannot decode as {encoding}: {exc.reason}", line=start) from None
    finally:
        csv.field_size_limit(saved)
    if not header:
        raise FileRejected(path, "no header line (only blank lines)")
    return CsvProfile(encoding, delimiter, header, records, total, blank)


def _refuse_swallowed_rows(path: Path, row: list[str], header: list[str], delimiter: str, start: int,
                           record: int) -> None:
    """A multi-line quoted value is normal (notes, addresses); one whose inner lines each parse as a whole row
    of the header's width is an unbalanced quote that swallowed rows: refuse it rather than land one row for many."""
    line = start
    for index, value in enumerate(row):
        segments = value.splitlines()
        if value.endswith(("\n", "\r")):
            segments.append("")
        for offset, segment in enumerate(segments[1:-1], 1):
            fields = next(csv.reader([segment], delimiter=delimiter), [])
            if len(fields) == len(header) and len(header) > 1:
                raise FileRejected(path, f"a quoted value runs over {len(segments)} lines and swallows what reads as "
                                         f"whole rows (an unbalanced quote?); nothing of this file landed",
                                   line=line + offset, row=record, field=header[index])
        line += len(segments) - 1


def _name_field(problem: FileRejected, path: Path, limit: int) -> FileRejected:
    """The bad-byte rejection with the data row and field the byte sits in: the file parsed (bad bytes
    replaced) up to the record holding the byte's line. Row and field stay unnamed when that parse fails."""
    if not problem.line or problem.line == 1:  # a bad byte in the header line: no field to name
        return problem
    encoding = getattr(problem, "encoding", "utf-8")
    saved = csv.field_size_limit()
    csv.field_size_limit(limit)
    try:
        with open(path, encoding=encoding, errors="replace", newline="") as f:
            first = f.readline()
            delimiter = sniff_delimiter(first)
            header = next(csv.reader([first], delimiter=delimiter), [])
            lines = _CountedLines(f)
            lines.count = 1
            records = 0
            for row in csv.reader(lines, delimiter=delimiter):
                if not row:
                    continue
                records += 1
                if lines.count >= problem.line:
                    for index, value in enumerate(row):
                        if "\ufffd" in value:
                            named = index < len(header) and "\ufffd" not in header[index]
                            field = header[index] if named else f"#{index + 1}"
                            return FileRejected(path, problem.reason, line=problem.line, row=records, field=field)
                    return FileRejected(path, problem.reason, line=problem.line, row=records)
    except csv.Error:
        pass
    finally:
        csv.field_size_limit(saved)
    return problem


def _stat(path: Path) -> tuple[int, int]:
    status = path.stat()
    return status.st_size, status.st_mtime_ns


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
        # never a symlink (or linked folder) that leads out of the drop folder: named in outside_links, never read
        files, self.outside_links = files_in_folder(self.folder, self.spec.source_object)
        return [p for p in files if not p.name.startswith((".", "~$"))]  # skip hidden and Excel lock files

    def extract(self, state: SourceState) -> Iterator[Chunk]:
        for path in self.files():
            before = _stat(path)
            digest = sha256_of(path)
            if (path.name, digest) in state.landed_files:
                continue
            profile = None
            try:
                if self.is_xlsx:
                    profile = XlsxFile(path, self.spec.sheet, self.chunk_rows).audit()
                    reader = XlsxFile(path, self.spec.sheet, self.chunk_rows)
                    header = reader.header()
                else:
                    profile = audit_csv(path)
                    reader, header = CsvFile(path, profile), profile.header
            except FileRejected as exc:  # set aside, named; the other files land
                state.set_aside.append(exc.as_json())
                continue
            except SourceError as exc:  # unreadable workbook header: report this file, land the others
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
            if _stat(path) != before:  # appended or rewritten while read: what landed may be half of it
                raise SourceError(f"{path}: the file changed while it was being read (an export still being "
                                  "written?); nothing of this load is committed: rerun once the file is complete")
            if profile is not None:
                if landed.rows != profile.records:  # Arrow and the strict reader disagree: never land it silently
                    raise SourceError(f"{path}: the strict reading counts {profile.records} data rows but "
                                      f"{landed.rows} were parsed for landing; nothing of this load is committed")
                landed.source = profile.as_json()
            state.new_files.append(landed)


class CsvFile:
    def __init__(self, path: Path, profile: CsvProfile | None = None):
        self.path = path
        self.profile = profile or audit_csv(path)

    def close(self) -> None:
        """Nothing held open between ``header()`` and ``chunks()``."""

    def header(self) -> list[str]:
        return self.profile.header

    def chunks(self, names: list[str]) -> Iterator[Chunk]:
        header, profile = self.header(), self.profile
        try:
            reader = pacsv.open_csv(
                self.path,
                # Threads pay off only for big files; most drops are small daily exports.
                read_options=pacsv.ReadOptions(block_size=CSV_BLOCK_BYTES,
                                               use_threads=self.path.stat().st_size > CSV_BLOCK_BYTES,
                                               encoding="utf8" if profile.encoding == "utf-8" else profile.encoding),
                parse_options=pacsv.ParseOptions(delimiter=profile.delimiter, newlines_in_values=True),
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
        except pa.ArrowInvalid as exc:  # the strict reading passed, Arrow did not: name the file, not its content
            raise SourceError(f"{self.path}: Arrow cannot parse a file the strict reader accepted "
                              f"({str(exc).split(':', 1)[0]}); nothing of this load is committed") from exc


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
            raise FileRejected(self.path, f"not a readable XLSX workbook ({type(exc).__name__})") from None
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

    def audit(self) -> CsvProfile:
        """Read the whole sheet once before anything lands: count its records and refuse values beyond the
        headed columns, naming sheet row and column (so a bad workbook never stops mid-load)."""
        try:
            header = self.header()
            width, records, line = len(header), 0, 1
            for cells in self._rows:
                line += 1
                values = [cell_text(c) for c in cells]
                if all(v is None or v == "" for v in values):
                    continue
                records += 1
                extra = [i for i, v in enumerate(values[width:], width) if v not in (None, "")]
                if extra:
                    raise FileRejected(self.path, f"sheet {self._title!r} has a value beyond the {width} headed "
                                                  "columns", line=line, row=records, field=f"#{extra[0] + 1}")
            return CsvProfile("xlsx", "", header, records, line, 0)
        finally:
            self.close()

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
