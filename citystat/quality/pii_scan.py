"""Scan published artefacts for personal data: the values of every field the inventory marks ``pii`` (read from
raw landing, the one place they may live), e-mail addresses and phone numbers anywhere in text.

``find_personal_data(texts, values)`` names each artefact and what was found in it (the kind, never the value).
``file_texts`` reads text files; ``data_file_texts`` the string columns of Parquet and Arrow IPC files (open-data
exports, the dashboards' query results). Used by tests/test_pii_scan.py over the shared pipeline run's snapshot,
Data Docs, memos and exports, and by tests/dashboards/test_site_personal_data.py over the built Evidence site.
"""
from __future__ import annotations

import re
from pathlib import Path
from typing import Iterable, Iterator

import duckdb
import pyarrow as pa
import pyarrow.ipc
import pyarrow.parquet

from citystat.settings import duckdb_config
from citystat.warehouse import open_file, quote_identifier, quote_literal

EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}")
# written as a phone number (separators or parentheses): a bare run of ten digits is an id or a hash as often
PHONE = re.compile(r"(?<![0-9A-Za-z_-])(\+?1[ .-]?)?(\(\d{3}\) ?|\d{3}[ .-])\d{3}[ .-]\d{4}(?![0-9])")
WORD = re.compile(r"[\w@+]+(?:[.-][\w@+]+)*")  # words, e-mail addresses and dashed phone numbers stay whole
PAIRED_NAME_FIELDS = {"first_name", "last_name"}
MIN_VALUE_CHARS = 7  # shorter pii values ("Ben", "Kim") also occur as parts of ordinary words and names of places


def pii_values(landing_dir: Path, inventory) -> set[str]:
    """Every value of a ``pii`` field in the landed batches (and "first last" of name pairs), long enough to mean
    a person rather than a word."""
    values: set[str] = set()
    con = duckdb.connect(config=duckdb_config())
    for ref in inventory.datasets():
        fields = [f.name for f in ref.dataset.fields if f.sensitivity == "pii"]
        files = sorted((landing_dir / ref.system.id / ref.dataset.id).glob("*.parquet"))
        if not fields or not files:
            continue
        source = f"read_parquet([{', '.join(quote_literal(str(f)) for f in files)}], union_by_name = true)"
        present = {r[0] for r in con.execute(f"DESCRIBE SELECT * FROM {source}").fetchall()}
        fields = [f for f in fields if f in present]
        for name in fields:
            if name in PAIRED_NAME_FIELDS:
                continue  # a first or last name alone is also a street or a word ("Washington", "Young"): pairs below
            values.update(str(v).strip() for (v,) in con.execute(f"SELECT DISTINCT {quote_identifier(name)} FROM {source}").fetchall() if v)
        if {"first_name", "last_name"} <= set(fields):
            values.update(f"{a} {b}" for a, b in con.execute(f"SELECT DISTINCT first_name, last_name FROM {source} "
                                                            "WHERE first_name IS NOT NULL AND last_name IS NOT NULL").fetchall())
    public = _public_values(con, landing_dir, inventory)
    con.close()
    contacts = {c.name for ref in inventory.datasets() for c in (ref.dataset.owner, ref.dataset.steward)}
    contacts |= {ref.department.contact.name for ref in inventory.datasets() if getattr(ref.department, "contact", None)}
    # a value some field publishes on purpose (an accountable official's name, a staff contact) is no leak when it
    # also happens to be a caller's name
    return {v for v in values if len(v) >= MIN_VALUE_CHARS and v not in public and v not in contacts}


def work_emails(inventory) -> set[str]:
    """Work contacts the inventory publishes on purpose (dataset owners, stewards, department contacts)."""
    emails = set()
    for ref in inventory.datasets():
        emails |= {ref.dataset.owner.email.lower(), ref.dataset.steward.email.lower()}
        if getattr(ref.department, "contact", None) is not None:
            emails.add(ref.department.contact.email.lower())
    return emails


def _public_values(con, landing_dir: Path, inventory) -> set[str]:
    """Values of the string fields the inventory marks public (not free text: that is `sensitive`)."""
    found: set[str] = set()
    for ref in inventory.datasets():
        fields = [f.name for f in ref.dataset.fields if f.sensitivity == "public" and f.type == "string"]
        files = sorted((landing_dir / ref.system.id / ref.dataset.id).glob("*.parquet"))
        if not fields or not files:
            continue
        source = f"read_parquet([{', '.join(quote_literal(str(f)) for f in files)}], union_by_name = true)"
        present = {r[0] for r in con.execute(f"DESCRIBE SELECT * FROM {source}").fetchall()}
        for name in (f for f in fields if f in present):
            found.update(str(v).strip() for (v,) in con.execute(f"SELECT DISTINCT {quote_identifier(name)} FROM {source}").fetchall() if v)
    return found


def snapshot_texts(snapshot: Path) -> Iterator[tuple[str, str]]:
    """(``schema.table``, the table's text-bearing columns as one text) for every table and view of the snapshot."""
    con = open_file(snapshot)
    try:
        tables = con.execute("SELECT schema_name, table_name FROM duckdb_tables() UNION ALL "
                             "SELECT schema_name, view_name FROM duckdb_views() WHERE NOT internal ORDER BY 1, 2").fetchall()
        for schema, table in tables:
            columns = con.execute("SELECT column_name FROM duckdb_columns() WHERE schema_name = ? AND table_name = ? "
                                  "AND data_type NOT IN ('DOUBLE', 'FLOAT', 'BIGINT', 'INTEGER', 'HUGEINT', 'SMALLINT', 'TINYINT', "
                                  "'BOOLEAN', 'DATE', 'TIMESTAMP', 'TIMESTAMP WITH TIME ZONE') AND data_type NOT LIKE 'DECIMAL%'",
                                  [schema, table]).fetchall()
            if not columns:
                continue
            parts = ", ".join(f"coalesce(cast({quote_identifier(c)} as varchar), '')" for (c,) in columns)
            rows = con.execute(f"SELECT string_agg(concat_ws(' | ', {parts}), chr(10)) "
                               f"FROM {quote_identifier(schema)}.{quote_identifier(table)}").fetchone()[0]
            yield f"{schema}.{table}", rows or ""
    finally:
        con.close()


def file_texts(paths: Iterable[Path], root: Path) -> Iterator[tuple[str, str]]:
    """(path under ``root``, text) of text files; a Parquet file's text is its rows, one line each."""
    con = duckdb.connect(config=duckdb_config())
    try:
        for path in paths:
            if path.suffix == ".parquet":
                rows = con.execute("SELECT * FROM read_parquet(?)", [str(path)]).fetchall()
                yield str(path.relative_to(root)), "\n".join(" | ".join(map(str, row)) for row in rows)
            else:
                yield str(path.relative_to(root)), path.read_text(encoding="utf-8", errors="replace")
    finally:
        con.close()


DATA_SUFFIXES = {".parquet", ".arrow", ".feather"}


def data_file_texts(paths: Iterable[Path], root: Path) -> Iterator[tuple[str, str]]:
    """(file, the values of its string columns as one text) for Parquet and Arrow IPC (file or stream) files."""
    for path in paths:
        if path.suffix.lower() == ".parquet":
            table = pyarrow.parquet.read_table(path)
        else:
            try:
                table = pyarrow.ipc.open_file(path).read_all()
            except pa.ArrowInvalid:
                table = pyarrow.ipc.open_stream(path).read_all()
        values = []
        for column in table.itercolumns():
            kind = column.type.value_type if pa.types.is_dictionary(column.type) else column.type
            if pa.types.is_string(kind) or pa.types.is_large_string(kind) or pa.types.is_string_view(kind):
                values.extend(str(v) for v in column.to_pylist() if v is not None)
        yield str(path.relative_to(root)), "\n".join(values)


def find_personal_data(texts: Iterable[tuple[str, str]], values: set[str], allowed_emails: set[str] = frozenset()) -> dict[str, list[str]]:
    """{artefact: what it holds (kinds and counts, never the values)} for every artefact with personal data."""
    index: dict[str, list[tuple[str, ...]]] = {}
    for value in values:  # by first word: one pass over each text's words, whatever the number of values
        words = tuple(WORD.findall(value))
        if words:
            index.setdefault(words[0], []).append(words)
    found: dict[str, list[str]] = {}
    for name, text in texts:
        what = []
        emails = [m for m in EMAIL.findall(text) if m.lower() not in allowed_emails]
        if emails:
            what.append(f"{len(emails)} e-mail address(es)")
        phones = PHONE.findall(text)
        if phones:
            what.append(f"{len(phones)} phone number(s)")
        words = WORD.findall(text)
        hits = sum(1 for i, word in enumerate(words) for candidate in index.get(word, ())
                   if tuple(words[i:i + len(candidate)]) == candidate)
        if hits:
            what.append(f"{hits} value(s) of pii fields")
        if what:
            found[name] = what
    return found
