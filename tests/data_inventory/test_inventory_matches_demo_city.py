"""The inventory describes what the demo city really holds: a clean generated city (small scale) has
exactly the declared columns, in order, and every value meets the declared type, allowed values,
pattern and range; the injected defects are what breaks those declarations."""
from __future__ import annotations

import csv
import datetime as dt
import re
import sqlite3
from pathlib import Path

import openpyxl
import pytest

from data_inventory import load_inventory
from demo_city.generator import generate

pytestmark = pytest.mark.slow

# The HTTP systems serve their stores' tables (docs/contracts.md); read the stores directly here.
API_TABLES = {
    "services.json": ("crm311/crm.sqlite", "services"),
    "requests.json": ("crm311/crm.sqlite", "requests"),
    "vndr-2x7k": ("procurement/portal.sqlite", "vendors"),
    "ctrc-9p3m": ("procurement/portal.sqlite", "contracts"),
    "mlst-4h8q": ("procurement/portal.sqlite", "contract_milestones"),
}


@pytest.fixture(scope="module")
def inventory():
    return load_inventory()


@pytest.fixture(scope="module")
def clean_city(tmp_path_factory):
    out = tmp_path_factory.mktemp("inventory_city") / "clean"
    generate(out, seed=7, scale=0.05, as_of=dt.date(2026, 10, 31), clean=True)
    return out


def read_source(inventory, ref, city: Path) -> tuple[list[list[str]], list[dict]]:
    """(headers of every file or table, rows) of one ingested dataset."""
    ds = ref.dataset
    location = Path(inventory.resolve_location(ref, city)) if ds.connector not in ("open311", "soda") else None
    if ds.connector in ("open311", "soda", "sqlite"):
        db, table = (city / API_TABLES[ds.source_object][0], API_TABLES[ds.source_object][1]) if location is None else (location, ds.source_object)
        with sqlite3.connect(db) as conn:
            conn.row_factory = sqlite3.Row
            cursor = conn.execute(f'SELECT * FROM "{table}"')
            header = [c[0] for c in cursor.description]
            return [header], [dict(row) for row in cursor]
    headers, rows = [], []
    files = sorted(location.glob(ds.source_object))
    assert files, f"{ref.name}: no file matching {ds.source_object} in {location}"
    for path in files:
        if path.suffix == ".csv":
            with path.open(newline="", encoding="utf-8") as handle:
                reader = csv.DictReader(handle)
                rows += list(reader)
                headers.append(list(reader.fieldnames))
        else:
            sheet = openpyxl.load_workbook(path, read_only=True)[ds.sheet]
            values = sheet.iter_rows(values_only=True)
            header = list(next(values))
            headers.append(header)
            rows += [dict(zip(header, row)) for row in values]
    return headers, rows


def violation(field, value) -> str | None:
    """Why `value` breaks the field's declaration, or None."""
    if field.type == "date" and isinstance(value, dt.datetime) and value.time() == dt.time(0):
        value = value.date()  # Excel stores dates as midnight datetimes
    text = value.isoformat() if isinstance(value, (dt.date, dt.datetime)) else str(value)
    try:
        if field.type == "integer" and float(text) != int(float(text)):
            return "not an integer"
        if field.type in ("integer", "number"):
            number = float(text)
            if field.minimum is not None and number < field.minimum:
                return f"below minimum {field.minimum}"
            if field.maximum is not None and number > field.maximum:
                return f"above maximum {field.maximum}"
        elif field.type == "date":
            dt.date.fromisoformat(text)
        elif field.type == "datetime":
            dt.datetime.fromisoformat(text)
        elif field.type == "boolean" and text not in ("0", "1", "True", "False", "true", "false"):
            return "not a boolean"
    except ValueError:
        return f"not a {field.type}"
    if field.allowed_values and text not in field.allowed_values:
        return "not an allowed value"
    if field.pattern and not re.search(field.pattern, text):
        return f"does not match {field.pattern}"
    return None


def test_clean_city_matches_every_declaration(inventory, clean_city):
    problems = []
    for ref in inventory.datasets():
        if not ref.dataset.ingested:
            continue
        headers, rows = read_source(inventory, ref, clean_city)
        assert rows, f"{ref.name}: no rows generated"
        for header in {tuple(h) for h in headers}:
            if list(header) != list(ref.field_names):
                problems.append(f"{ref.name}: columns {list(header)} != declared {list(ref.field_names)}")
        for field in ref.fields:
            for row in rows:
                value = row.get(field.name)
                if value is None or value == "":
                    if field.required:
                        problems.append(f"{ref.name}.{field.name}: required but empty")
                        break
                    continue
                why = violation(field, value)
                if why:
                    problems.append(f"{ref.name}.{field.name}: {value!r} {why}")
                    break
    assert problems == []
