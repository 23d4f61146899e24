"""Helpers for the tests of the demo city's procurement/paving/finance/human-services/performance/budget systems.

Each test calls the system modules directly on a GenContext in a temporary folder, the same way
demo_city.generator does (generate, then advance with the history start pinned).
"""
from __future__ import annotations

import datetime as dt
import hashlib
import re
from pathlib import Path

import openpyxl

from demo_city.core import GenContext

EMAIL = re.compile(r"[\w.+-]+@[\w-]+\.[\w.]+")
PHONE = re.compile(r"\b\d{3}[-. ]\d{3}[-. ]\d{4}\b")


def make_ctx(out: Path, *, seed: int = 7, scale: float = 0.1, as_of=dt.date(2026, 10, 31), clean=False, start=None) -> GenContext:
    return GenContext(out=out, seed=seed, scale=scale, as_of=as_of, clean=clean, first_day=start)


def generate(ctx: GenContext, *systems) -> GenContext:
    for system in systems:
        system.generate(ctx)
    return ctx


def advance(ctx: GenContext, new_as_of: dt.date, *systems) -> GenContext:
    """What demo_city.generator.advance does: keep the history start, move as_of, append the new days."""
    first = ctx.as_of + dt.timedelta(days=1)
    ctx.first_day = ctx.start
    ctx.as_of = new_as_of
    for system in systems:
        system.advance(ctx, first, new_as_of)
    return ctx


def digests(root: Path) -> dict[str, str]:
    """Relative path -> sha256 of every file under ``root``."""
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(root.rglob("*")) if p.is_file()}


def manifest(ctx: GenContext, dataset: str) -> dict[str, set[str]]:
    """{defect_class: record ids} the context recorded for one dataset."""
    return {d["defect_class"]: set(d["record_ids"]) for d in ctx.defects.to_json()["defects"] if d["dataset"] == dataset}


def read_sheet(path: Path, sheet: str) -> list[dict]:
    wb = openpyxl.load_workbook(path, read_only=True)
    try:
        rows = wb[sheet].iter_rows(values_only=True)
        header = next(rows)
        return [dict(zip(header, row)) for row in rows]
    finally:
        wb.close()


def as_date(value) -> dt.date | None:
    return value.date() if isinstance(value, dt.datetime) else value
