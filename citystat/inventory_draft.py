"""Draft an inventory entry from a sample of a city's export (CSV or XLSX): profile every column (type, datetime
and number format, null rate, distinct values), propose safe field names, the column mapping, a primary key, allowed
values for low-cardinality codes and a sensitivity, and list what a person must confirm before the entry is used.

Reads at most ``MAX_ROWS`` rows and ``MAX_BYTES`` bytes of the sample; never publishes or sends anything. Error
messages name the file and the problem, never a value from it.
"""
from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

from citystat.quality.pii_scan import EMAIL, PHONE

MAX_ROWS = 10_000
MAX_BYTES = 50 * 1024 * 1024
MAX_ALLOWED_VALUES = 12  # more distinct codes than this is a free-form field, not a code list

# Formats cities publish in (NYC Open Data's "05/01/2022 12:00:03 AM", Boston's ISO "2022-05-01 00:00:03"...),
# tried in order; a column takes the first format every non-null value parses with.
DATETIME_FORMATS = (
    "%Y-%m-%dT%H:%M:%S.%f", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M",
    "%m/%d/%Y %I:%M:%S %p", "%m/%d/%Y %I:%M %p", "%m/%d/%Y %H:%M:%S", "%m/%d/%Y %H:%M", "%d/%m/%Y %H:%M:%S",
)
DATE_FORMATS = ("%Y-%m-%d", "%m/%d/%Y", "%d/%m/%Y", "%d.%m.%Y")
TRUE_FALSE = ({"Y", "N"}, {"YES", "NO"}, {"TRUE", "FALSE"}, {"T", "F"})
# a person's name, not a facility's or an agency's ("Agency Name", "Park Facility Name" are public)
PII_NAME_HINTS = re.compile(r"^name$|(^|_)(first|last|full|middle|caller|contact|complainant|resident|reporter)_name($|_)|"
                            r"(^|_)(email|e_mail|phone|telephone|mobile|ssn|birth|dob|caller|complainant)(_|$)")
FREE_TEXT_CHARS = 60  # a column whose values average more than this is free text: may name people


class DraftError(Exception):
    """A sample that cannot be profiled; the message names the file and the problem, never its content."""


@dataclass
class ColumnProfile:
    source: str
    name: str
    type: str = "string"
    format: dict = field(default_factory=dict)
    null_rate: float = 0.0
    distinct: int = 0
    unique: bool = False
    allowed_values: list[str] | None = None
    sensitivity: str = "public"
    notes: list[str] = field(default_factory=list)


@dataclass
class Draft:
    source: str
    rows: int
    truncated: bool
    columns: list[ColumnProfile]
    primary_key: list[str] | None
    review: list[str]
    sheet: str | None = None  # the XLSX sheet profiled


def read_sample(path: Path, *, sheet: str | None = None, max_rows: int = MAX_ROWS) -> tuple[list[str], list[list[str | None]], bool]:
    """(headers, rows as text or None, truncated) from a CSV or XLSX file, bounded in rows and bytes."""
    if not path.is_file():
        raise DraftError(f"{path}: no such file")
    suffix = path.suffix.lower()
    if suffix in (".xlsx", ".xlsm"):
        headers, rows, truncated, _ = _read_xlsx(path, sheet, max_rows)
        return headers, rows, truncated
    if suffix not in (".csv", ".txt", ".tsv"):
        raise DraftError(f"{path}: unsupported sample type {suffix or '(none)'}; give a .csv or .xlsx file")
    with path.open("rb") as handle:
        raw = handle.read(MAX_BYTES + 1)
    truncated = len(raw) > MAX_BYTES
    if truncated:
        raw = raw[:MAX_BYTES].rsplit(b"\n", 1)[0]
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = raw.decode("cp1252", errors="replace")  # Excel's "CSV" on Windows
    try:
        dialect = csv.Sniffer().sniff(text[:20_000], delimiters=",;\t|")
    except csv.Error:
        dialect = csv.excel
    reader = csv.reader(io.StringIO(text), dialect)
    try:
        headers = next(reader)
    except StopIteration:
        raise DraftError(f"{path}: empty file, no header row") from None
    except csv.Error as exc:
        raise DraftError(f"{path}: not a readable CSV ({type(exc).__name__})") from None
    rows: list[list[str | None]] = []
    try:
        for line_number, row in enumerate(reader, start=2):
            if len(rows) >= max_rows:
                truncated = True
                break
            if not any(cell.strip() for cell in row):
                continue
            if len(row) != len(headers):
                raise DraftError(f"{path}: row {line_number} has {len(row)} cells, the header {len(headers)}")
            rows.append([cell.strip() or None for cell in row])
    except csv.Error as exc:
        raise DraftError(f"{path}: not a readable CSV ({type(exc).__name__})") from None
    return headers, rows, truncated


SOURCE_CONNECTORS = ("soda", "open311", "sqlite", "postgres")


def read_source(connector: str, location: str, source_object: str, *, max_rows: int = MAX_ROWS) -> tuple[list[str], list[list[str | None]], bool]:
    """(headers, rows as text or None, truncated) from the first rows of a SODA dataset, an Open311 endpoint or a
    SQL table, read by the project's own connector (its timeouts, retries and deadlines; nothing is landed)."""
    from citystat.connectors import ConnectorOptions, SourceError, SourceSpec, SourceState, SourceUnavailable, build_connector

    spec = SourceSpec("draft", "draft", connector, location, source_object)
    options = ConnectorOptions(page_size=min(max_rows, 1000), chunk_rows=min(max_rows, 50_000))
    headers: dict[str, None] = {}
    records: list[dict] = []
    truncated = False
    chunks = build_connector(spec, options).extract(SourceState())
    try:
        for chunk in chunks:
            columns = {name: values.to_pylist() if hasattr(values, "to_pylist") else list(values)
                       for name, values in chunk.columns.items()}
            headers.update(dict.fromkeys(columns))
            for i in range(min(chunk.num_rows, max_rows - len(records))):
                records.append({name: values[i] for name, values in columns.items()})
            if len(records) >= max_rows:  # enough: never ask the source for another page
                truncated = True
                break
    except (SourceError, SourceUnavailable) as exc:
        # the connector's message may quote the server's answer: keep it up to the status, never the body
        message = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise DraftError(re.sub(r"(HTTP \d{3}).*", r"\1", message)) from None
    finally:
        chunks.close()
    names = list(headers)
    return names, [[_cell_text(r.get(n)) for n in names] for r in records], truncated


def _read_xlsx(path: Path, sheet: str | None, max_rows: int):
    from openpyxl import load_workbook

    try:
        book = load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many types for a broken workbook
        raise DraftError(f"{path}: not a readable XLSX workbook ({type(exc).__name__})") from None
    try:
        if sheet is not None and sheet not in book.sheetnames:
            raise DraftError(f"{path}: no sheet {sheet!r} (sheets: {', '.join(book.sheetnames)})")
        sheet = sheet or book.sheetnames[0]
        rows_iter = book[sheet].iter_rows(values_only=True)
        header = next(rows_iter, None)
        if header is None:
            raise DraftError(f"{path}: empty sheet, no header row")
        headers = ["" if h is None else str(h) for h in header]
        rows, truncated = [], False
        for row in rows_iter:
            if len(rows) >= max_rows:
                truncated = True
                break
            cells = [_cell_text(v) for v in row[:len(headers)]] + [None] * (len(headers) - len(row))
            if any(c is not None for c in cells):
                rows.append(cells)
        return headers, rows, truncated, sheet
    finally:
        book.close()


def _cell_text(value) -> str | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (dict, list)):
        import json

        return json.dumps(value, sort_keys=True)
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    text = str(value).strip()
    return text or None


def safe_names(headers: list[str], reserved: frozenset[str]) -> list[str]:
    """A safe SQL identifier for each header ("Unique Key" -> unique_key), unique, never a reserved word."""
    names: list[str] = []
    for i, header in enumerate(headers):
        if re.fullmatch(r":[a-z_]+", header):  # SODA system fields (:id, :updated_at) keep their names
            names.append(header)
            continue
        spaced = re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", header.strip())  # camelCase -> camel_Case
        name = re.sub(r"[^a-z0-9]+", "_", spaced.lower()).strip("_")[:55] or f"column_{i + 1}"
        if not name[0].isalpha():
            name = f"c_{name}"
        if name in reserved:
            name = f"{name}_value"
        base, n = name, 2
        while name in names:
            name, n = f"{base}_{n}", n + 1
        names.append(name)
    return names


def _all_parse(values: list[str], fmt: str) -> bool:
    try:
        for v in values:
            datetime.strptime(v, fmt)
    except ValueError:
        return False
    return True


NUMBER_US = re.compile(r"^[-+]?\$?(\d{1,3}(,\d{3})+|\d+)(\.\d+)?$")
NUMBER_EU = re.compile(r"^[-+]?(\d{1,3}(\.\d{3})+|\d+)(,\d+)?$")
PARENS = re.compile(r"^\((.*)\)$")


CODE_NAME = re.compile(r"(^|_)(zip|zipcode|postal|postcode|code|precinct|district|ward)(_|$)")


def _profile_type(name: str, values: list[str]) -> tuple[str, dict]:
    """(inventory type, declared format) that every value fits."""
    upper = {v.upper() for v in values}
    if any(upper <= pair for pair in TRUE_FALSE):
        pair = next(p for p in TRUE_FALSE if upper <= p)
        true, false = sorted(pair, key=lambda s: s in {"N", "NO", "FALSE", "F"})
        return "boolean", {"true_values": [true], "false_values": [false]}
    if all(re.fullmatch(r"[-+]?\d{1,18}", v) for v in values):
        if CODE_NAME.search(name) or any(len(v) > 1 and v.startswith("0") for v in values):
            return "string", {}  # ZIP codes, districts, zero-padded ids: codes written in digits are text
        return "integer", {}
    unwrapped = [PARENS.sub(r"-\1", v) for v in values]
    fmt: dict = {}
    if unwrapped != values:
        fmt["negative_parentheses"] = True
    if all(NUMBER_US.match(v) for v in unwrapped):
        if any("," in v for v in unwrapped):
            fmt["thousands_separator"] = ","
        return "number", fmt
    if all(NUMBER_EU.match(v) for v in unwrapped) and any("," in v for v in unwrapped):
        return "number", {**fmt, "decimal_separator": ",", "thousands_separator": "."}
    for candidate in DATE_FORMATS:
        if _all_parse(values, candidate):
            return "date", {} if candidate == "%Y-%m-%d" else {"date": candidate}
    for candidate in ("%Y-%m-%dT%H:%M:%S.%f%z", "%Y-%m-%dT%H:%M:%S%z"):
        if _all_parse(values, candidate):
            return "datetime", {}  # ISO 8601 with an offset: read as is, converted to city time (no format needed)
    for candidate in DATETIME_FORMATS:
        if _all_parse(values, candidate):
            return "datetime", {"datetime": candidate}
    return "string", {}


def profile(headers: list[str], rows: list[list[str | None]], reserved: frozenset[str]) -> list[ColumnProfile]:
    profiles = []
    for i, (header, name) in enumerate(zip(headers, safe_names(headers, reserved))):
        values = [r[i] for r in rows if r[i] is not None]
        p = ColumnProfile(source=header, name=name)
        p.null_rate = round(1 - len(values) / len(rows), 4) if rows else 1.0
        distinct = set(values)
        p.distinct = len(distinct)
        p.unique = bool(rows) and len(values) == len(rows) and len(distinct) == len(rows)
        if values:
            p.type, p.format = _profile_type(name, values)
        if p.type == "string" and values and len(distinct) <= MAX_ALLOWED_VALUES and len(distinct) * 2 <= len(values):
            p.allowed_values = sorted(distinct)
        emails = sum(bool(EMAIL.search(v)) for v in values)
        phones = sum(bool(PHONE.search(v)) for v in values)
        if PII_NAME_HINTS.search(name) or emails or phones:
            p.sensitivity = "pii"
            kinds = [k for k, n in (("e-mail addresses", emails), ("phone numbers", phones)) if n]
            p.notes.append("looks like personal data (" + (", ".join(kinds) + " in values" if kinds else "by its name")
                           + "): kept pii, so it never leaves raw landing; confirm")
        elif p.type == "string" and values and sum(map(len, values)) / len(values) > FREE_TEXT_CHARS:
            p.sensitivity = "sensitive"
            p.notes.append("free text: may name people; marked sensitive, confirm")
        if p.sensitivity != "public":
            p.allowed_values = None  # personal data or free text is no code list (and its values stay out of the file)
        if not values:
            p.notes.append("empty in the sample: type unknown (string), confirm")
        profiles.append(p)
    return profiles


def primary_key(profiles: list[ColumnProfile]) -> list[str] | None:
    """The unique, never-null column most likely to be the record id (names with id/key/number first)."""
    unique = [p for p in profiles if p.unique and p.type in ("string", "integer")]
    unique.sort(key=lambda p: (not re.search(r"(^|_)(id|key|number|no)($|_)", p.name), profiles.index(p)))
    return [unique[0].name] if unique else None


def draft(path: Path | str, *, sheet: str | None = None, max_rows: int = MAX_ROWS,
          connector: str | None = None, source_object: str | None = None) -> Draft:
    """Profile a sample file (``path``), or with ``connector`` the first rows of ``source_object`` at ``path``."""
    from data_inventory.rules import sql_reserved_words

    if connector is not None:
        headers, rows, truncated = read_source(connector, str(path), source_object or "", max_rows=max_rows)
        path = Path(source_object or "source")
    else:
        path = Path(path)
        headers, rows, truncated = read_sample(path, sheet=sheet, max_rows=max_rows)
    if connector is None and path.suffix.lower() in (".xlsx", ".xlsm") and sheet is None:
        from openpyxl import load_workbook

        book = load_workbook(path, read_only=True)
        sheet = book.sheetnames[0]
        book.close()
    if not rows:
        raise DraftError(f"{path}: no data rows under the header; a sample needs some rows to profile")
    columns = profile(headers, rows, sql_reserved_words())
    key = primary_key(columns)
    review = ["owner, steward and department contact are placeholders: name the real people",
              "access_level, publication and cadence/freshness are guesses: confirm them"]
    if truncated:
        review.append(f"profiled the first {len(rows)} rows only (the source may hold more)")
    review.append(f"primary key {key[0]!r}: unique and never empty in the sample; confirm it is the record id"
                  if key else "no column is unique in the sample: declare the primary key by hand")
    for c in columns:
        if c.format.get("datetime") or c.format.get("date"):
            c.notes.append("time zone assumed to be the city's; confirm")
        if c.allowed_values:
            c.notes.append(f"{len(c.allowed_values)} distinct codes taken as the allowed values; confirm the list is complete")
        review.extend(f"field {c.name} ({c.source!r}): {note}" for note in c.notes)
    return Draft(str(path), len(rows), truncated, columns, key, review, sheet)


def draft_inventory(d: Draft, *, city: str, department: str, system: str, dataset: str,
                    connector: str, location: str | None, source_object: str, updated: str) -> dict:
    """A whole one-dataset inventory (valid on its own) holding the drafted entry."""
    fields = []
    for c in d.columns:
        f: dict = {"name": c.name, "type": c.type}
        if c.null_rate == 0:
            f["required"] = True
        if c.sensitivity != "public":
            f["sensitivity"] = c.sensitivity
        if c.allowed_values:
            f["allowed_values"] = c.allowed_values
        if c.format:
            f["format"] = c.format
        f["description"] = f"{c.source!r} in the source; {c.null_rate:.0%} empty, {c.distinct} distinct in the sample"
        fields.append(f)
    placeholder = {"name": "TO CONFIRM", "email": "to.confirm@example.org"}
    entry: dict = {
        "id": dataset, "title": f"{dataset.replace('_', ' ')} (draft)",
        "description": f"Drafted by `citystat inventory draft` from {Path(d.source).name}; review before use.",
        "owner": placeholder, "steward": placeholder, "connector": connector,
        "location": {"env": f"CITYSTAT_{system.upper()}_{'DROPS' if connector.endswith('_drop') else 'URL'}",
                     **({"default": location} if location else {})}, "source_object": source_object,
        "cadence": "daily", "freshness_hours": 48, "update_method": "automated", "access_level": "non-public",
        "publication": {"status": "not_planned"}, "priority": "medium",
    }
    if d.sheet is not None:
        entry["sheet"] = d.sheet
    mapping = {c.source: c.name for c in d.columns if c.source != c.name}
    if mapping:
        entry["column_mapping"] = mapping
    if d.primary_key:
        entry["primary_key"] = d.primary_key
    if connector == "soda" and any(c.name == ":updated_at" for c in d.columns):
        entry["cursor_field"] = ":updated_at"  # incremental loads: only rows changed since the last one
    entry["fields"] = fields
    return {
        "version": 1, "updated": updated,
        "city": {"name": city, "population": 1, "fiscal_year_start_month": 7},
        "departments": [{"id": department, "name": department, "contact": placeholder,
                         "systems": [{"id": system, "name": system, "kind": "file_drop" if connector.endswith("_drop") else "api" if connector in ("soda", "open311") else "database",
                                      "system_of_record": True, "datasets": [entry]}]}],
    }


def render(d: Draft, inventory: dict) -> str:
    """The draft as YAML, the review notes on top as comments."""
    import yaml

    head = ["# DRAFT inventory entry written by `citystat inventory draft`: nothing is ingested or published until a",
            "# person confirms it and copies the dataset into the inventory.  To confirm:"]
    head += [f"#  - {line}" for line in d.review]
    return "\n".join(head) + "\n" + yaml.safe_dump(inventory, sort_keys=False, allow_unicode=True, width=120)
