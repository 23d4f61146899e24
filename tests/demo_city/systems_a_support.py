"""Helpers for the tests of the demo city's 311 CRM, Public Works MMS, Fire CAD and Code Enforcement drops.

``find_defects`` is an oracle written independently of the generator: it reads the generated stores and
files the way a data-quality check would and returns every record that has each defect, so tests can
compare it with the generator's manifest in both directions.
"""
from __future__ import annotations

import csv
import datetime as dt
import hashlib
import json
import re
import sqlite3
from pathlib import Path

import pandas as pd

from demo_city.core import GenContext

EMAIL = re.compile(r"[\w.+-]+@[\w-]+\.[\w.]+")
PHONE = re.compile(r"\b\d{3}[-. ]\d{3}[-. ]\d{4}\b|\(\d{3}\)\s*\d{3}-\d{4}")
STORES = {"crm311": "crm311/crm.sqlite", "pw_mms": "public_works/mms.sqlite", "fire_cad": "fire/cad.sqlite"}
CE_DROP = Path("drops/code_enforcement")
CASE_COLUMNS = ["case_id", "property_id", "parcel_address", "owner_name", "owner_phone", "district", "opened_date", "status",
                "outcome", "closure_date", "evidence_photo_url", "inspector_id", "updated_at"]  # fmt: skip
MY_DATASETS = {
    "crm311.service_requests", "pw_mms.work_orders", "fire_cad.incidents", "ce_vacant.cases", "ce_vacant.inspections",
}  # fmt: skip


def make_ctx(out: Path, *, seed=42, scale=0.2, as_of=dt.date(2026, 10, 31), clean=False, start=None) -> GenContext:
    return GenContext(out=out, seed=seed, scale=scale, as_of=as_of, clean=clean, first_day=start)


def run_systems(ctx: GenContext, *systems, advance_to: dt.date | None = None) -> GenContext:
    """generate (or, with ``advance_to``, advance) the given system modules in order, as the driver does."""
    if advance_to is None:
        for system in systems:
            system.generate(ctx)
        return ctx
    first = ctx.as_of + dt.timedelta(days=1)
    ctx.first_day, ctx.as_of = ctx.start, advance_to
    for system in systems:
        system.advance(ctx, first, advance_to)
    return ctx


def query(path: Path, sql: str, params=()) -> pd.DataFrame:
    with sqlite3.connect(path) as conn:
        return pd.read_sql_query(sql, conn, params=params)


def dump_sqlite(path: Path) -> dict[str, list[tuple]]:
    """Every table's rows, sorted: equal dumps mean equal database contents."""
    with sqlite3.connect(path) as conn:
        tables = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")]
        return {t: sorted(conn.execute(f'SELECT * FROM "{t}"').fetchall(), key=repr) for t in tables}


def fingerprint(root: Path) -> dict[str, str]:
    """Relative path -> digest of every file; SQLite databases by their sorted contents, not their bytes."""
    out = {}
    for path in sorted(root.rglob("*")):
        if not path.is_file() or path.name.endswith(("-wal", "-shm", "-journal")):
            continue
        data = repr(dump_sqlite(path)).encode() if path.suffix == ".sqlite" else path.read_bytes()
        out[str(path.relative_to(root))] = hashlib.sha256(data).hexdigest()
    return out


def manifest(out: Path) -> dict[tuple[str, str], set[str]]:
    """{(defect_class, dataset): record ids} from defects.json."""
    found: dict[tuple[str, str], set[str]] = {}
    for d in json.loads((out / "defects.json").read_text())["defects"]:
        found.setdefault((d["defect_class"], d["dataset"]), set()).update(d["record_ids"])
    return found


def ce_files(out: Path, kind: str) -> pd.DataFrame:
    """All daily ``vacant_<kind>_*.csv`` rows with their file name (schema-drifted columns mapped back)."""
    records = []
    for f in sorted((out / CE_DROP).glob(f"vacant_{kind}_*.csv")):
        with f.open(newline="", encoding="utf-8") as handle:
            for i, row in enumerate(csv.DictReader(handle)):
                row["inspector_id"] = row.pop("inspector", row.get("inspector_id"))
                records.append({**row, "_file": f.name, "_row": i})
    return pd.DataFrame.from_records(records).fillna("")


def has_pii(text: pd.Series) -> pd.Series:
    text = text.fillna("")
    return text.str.contains(PHONE) | text.str.contains(EMAIL)


def _instant(text: pd.Series) -> pd.Series:
    return pd.to_datetime(text, format="ISO8601", utc=True)


def find_defects(out: Path, as_of: dt.date, start: dt.date) -> dict[tuple[str, str], set[str]]:
    """Every record of the systems-A datasets that has each defect class, read from the generated output."""
    end = pd.Timestamp(as_of) + pd.Timedelta(days=1)
    found: dict[tuple[str, str], set[str]] = {}

    def add(cls: str, dataset: str, ids) -> None:
        ids = set(ids)
        if ids:
            found.setdefault((cls, dataset), set()).update(ids)

    crm = out / STORES["crm311"]
    sr = query(crm, "SELECT * FROM requests")
    codes = set(query(crm, "SELECT service_code FROM services").service_code)
    ds = "crm311.service_requests"
    add("closed_before_opened", ds, sr.service_request_id[_instant(sr.closed_datetime) < _instant(sr.requested_datetime)])
    add("invalid_code", ds, sr.service_request_id[~sr.service_code.isin(codes)])
    add("pii_in_free_text", ds, sr.service_request_id[has_pii(sr.description) | has_pii(sr.status_notes)])

    mms = out / STORES["pw_mms"]
    wo = query(mms, "SELECT * FROM work_orders")
    crews = set(query(mms, "SELECT crew_id FROM crews").crew_id)
    ds = "pw_mms.work_orders"
    add("closed_before_opened", ds, wo.work_order_id[pd.to_datetime(wo.completed_at) < pd.to_datetime(wo.created_at)])
    add("negative_amount", ds, wo.work_order_id[(wo.material_cost < 0) | (wo.material_cost > 1e6)])
    add("orphan_key", ds, wo.work_order_id[~wo.crew_id.isin(crews)])

    fi = query(out / STORES["fire_cad"], "SELECT * FROM incidents")
    add("future_date", "fire_cad.incidents", fi.incident_id[pd.to_datetime(fi.arrival_time) >= end])

    cases, inspections = ce_files(out, "cases"), ce_files(out, "inspections")
    ds = "ce_vacant.cases"
    repeated = cases.drop(columns="_row").duplicated(keep=False)
    add("duplicate", ds, cases.case_id[repeated])
    latest = cases.sort_values(["updated_at", "_file", "_row"]).groupby("case_id").tail(1)
    hollow = (latest.status == "addressed") & ((latest.closure_date == "") | (latest.evidence_photo_url == ""))
    add("addressed_without_evidence", ds, latest.case_id[hollow])
    for f in sorted((out / CE_DROP).glob("vacant_cases_*.csv")):
        if f.read_text().splitlines()[0].split(",") != CASE_COLUMNS:
            add("schema_drift", ds, [f.name])
    day = start
    while day <= as_of:
        for kind, dataset in (("cases", "ce_vacant.cases"), ("inspections", "ce_vacant.inspections")):
            if not (out / CE_DROP / f"vacant_{kind}_{day.isoformat()}.csv").exists():
                add("missing_export", dataset, [day.isoformat()])
        day += dt.timedelta(days=1)
    ds = "ce_vacant.inspections"
    add("future_date", ds, inspections.inspection_id[pd.to_datetime(inspections.inspection_date) > pd.Timestamp(as_of)])
    add("pii_in_free_text", ds, inspections.inspection_id[has_pii(inspections.notes)])
    return found


def mine(defects: dict[tuple[str, str], set[str]]) -> dict[tuple[str, str], set[str]]:
    return {k: v for k, v in defects.items() if k[1] in MY_DATASETS}
