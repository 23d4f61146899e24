"""A quality score per dataset for the chief data officer's inventory view: ``quality.dataset_scores``.

Per automated inventory dataset: the share of its GX expectations that passed on the last batch checked,
whether new data arrived within its freshness window, the share of its rows held in quarantine, missing
exports, drifted files, and whether reconciliation holds. The score (0-100) weighs the first three
(40 / 30 / 30) and takes 10 points off per missing export or drifted file and 30 when rows went missing.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable, Mapping
from pathlib import Path

import duckdb
import pandas as pd

from data_inventory import Inventory, load_inventory
from citystat.ingestion import is_automated
from citystat.landing import Landing
from citystat.quality.results import results_dir
from citystat.quality.drift import drifted_files
from citystat.quality.freshness import check_freshness
from citystat.quality.reconciliation import model_names, reconcile
from citystat.quality.suites import raw_suite_name
from citystat.quality.volume import check_volume
from citystat.warehouse import fetch, has_table, quote_table, scalar, write_table

TABLE = "quality.dataset_scores"
DESCRIPTION = ("Quality score per inventoried dataset: GX pass rate, freshness, quarantine share, missing exports, "
               "schema drift, reconciliation (citystat/quality/scores.py)")
WEIGHTS = {"expectation_pass_rate": 40, "freshness": 30, "unquarantined_share": 30}
COLUMN_DOCS = {
    "dataset_id": "Inventory id <system>.<dataset>",
    "department_code": "Owning department",
    "rows_staged": "Rows in the staging model (latest versions that passed every hard rule)",
    "rows_quarantined": "Rows held in quality.quarantine_<system>__<dataset> with a rule and reason",
    "quarantine_share": "rows_quarantined / (rows_staged + rows_quarantined)",
    "expectations": "Expectations in the dataset's GX suite at its last check",
    "expectations_passed": "Expectations that passed at the last check",
    "expectation_pass_rate": "expectations_passed / expectations (NULL: never checked)",
    "rows_flagged": "Distinct records any expectation flagged at the last check",
    "last_checked_at": "When the GX suite last ran on a new batch (UTC)",
    "last_landed_at": "When the last batch with rows landed (UTC)",
    "age_hours": "Hours since last_landed_at",
    "freshness_hours": "The inventory's freshness window",
    "is_fresh": "age_hours <= freshness_hours",
    "missing_exports": "Periods of a daily/weekly/monthly drop with no file",
    "drifted_files": "Dropped files refused because their columns differ from the inventory",
    "reconciliation_holds": "raw rows = staged + quarantined + superseded for every batch (NULL: not staged yet)",
    "quality_score": "0-100: 40 x pass rate + 30 x fresh + 30 x (1 - quarantine share), -10 per missing export or drifted file, -30 if rows went missing",
    "computed_at": "When this row was computed (UTC)",
}
# columns that may be all NULL (nothing checked or staged yet) keep their type
COLUMN_TYPES = {"last_checked_at": "TIMESTAMP", "last_landed_at": "TIMESTAMP", "reconciliation_holds": "BOOLEAN",
                "expectation_pass_rate": "DOUBLE", "quarantine_share": "DOUBLE", "age_hours": "DOUBLE"}


def _latest_check(name: str, directory: Path) -> dict:
    path = directory / f"{name}.json"
    return json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}


def score(pass_rate: float | None, fresh: bool, quarantine_share: float | None, missing_exports: int, drifted: int,
          reconciliation_holds: bool | None) -> float:
    parts = {"expectation_pass_rate": pass_rate, "freshness": 1.0 if fresh else 0.0,
             "unquarantined_share": None if quarantine_share is None else 1.0 - quarantine_share}
    known = {k: v for k, v in parts.items() if v is not None}
    base = 100.0 * sum(WEIGHTS[k] * v for k, v in known.items()) / sum(WEIGHTS[k] for k in known)
    penalty = 10 * (missing_exports + drifted) + (30 if reconciliation_holds is False else 0)
    return round(max(0.0, base - penalty), 1)


def compute_scores(inventory: Inventory, landing: Landing, data_dir: Path, con: duckdb.DuckDBPyConnection,
                   checks_dir: Path | None = None, now: dt.datetime | None = None,
                   reconciled: Mapping[str, bool | None] | None = None) -> pd.DataFrame:
    """`reconciled`: whether reconciliation holds, by dataset id, for datasets whose staging and landed batches are
    known not to have changed since it was worked out (the rest are reconciled here)."""
    checks_dir = checks_dir or results_dir()
    reconciled = reconciled or {}
    now = now or dt.datetime.now(dt.timezone.utc)
    rows = []
    for ref in inventory.datasets():
        if not is_automated(ref):
            continue
        names = model_names(ref)
        staged_ok = has_table(con, names["staged"]) and has_table(con, names["quarantine"])
        staged = scalar(con, f"SELECT count(*) FROM {quote_table(names['staged'])}") if staged_ok else None
        quarantined = scalar(con, f"SELECT count(*) FROM {quote_table(names['quarantine'])}") if staged_ok else None
        share = quarantined / (staged + quarantined) if staged_ok and (staged + quarantined) else (0.0 if staged_ok else None)
        checked = _latest_check(raw_suite_name(*ref.key), checks_dir)
        pass_rate = checked.get("pass_rate")
        fresh = check_freshness(ref, landing, now)
        volume = check_volume(ref, landing, data_dir)
        missing = len(volume.missing) if volume else 0
        drifted = len(drifted_files(ref, landing, data_dir))
        if ref.name in reconciled:
            holds = reconciled[ref.name]
        else:
            holds = reconcile(ref, landing, con).holds if staged_ok and landing.entries(*ref.key) else None
        rows.append({
            "dataset_id": ref.name, "department_code": ref.department.id,
            "rows_staged": staged, "rows_quarantined": quarantined, "quarantine_share": share,
            "expectations": checked.get("expectations"),
            "expectations_passed": (checked["expectations"] - checked["failed"]) if checked else None,
            "expectation_pass_rate": pass_rate, "rows_flagged": checked.get("unexpected_rows"),
            "last_checked_at": pd.Timestamp(checked["checked_at"]).tz_convert(None) if checked.get("checked_at") else None,
            "last_landed_at": fresh.last_landed_at.replace(tzinfo=None) if fresh.last_landed_at else None,
            "age_hours": fresh.age_hours, "freshness_hours": fresh.freshness_hours, "is_fresh": fresh.fresh,
            "missing_exports": missing, "drifted_files": drifted, "reconciliation_holds": holds,
            "quality_score": score(pass_rate, fresh.fresh, share, missing, drifted, holds),
            "computed_at": now.replace(tzinfo=None),
        })
    frame = pd.DataFrame(rows, columns=list(COLUMN_DOCS))
    for column in ("rows_staged", "rows_quarantined", "expectations", "expectations_passed", "rows_flagged"):
        frame[column] = frame[column].astype("Int64")
    return frame


def previous_reconciliation(con: duckdb.DuckDBPyConnection, dataset_ids: Iterable[str]) -> dict[str, bool | None]:
    """`reconciliation_holds` of these datasets in the scores last written (none when there are none)."""
    wanted = set(dataset_ids)
    if not wanted or not has_table(con, TABLE):
        return {}
    rows = fetch(con, f"SELECT dataset_id, reconciliation_holds FROM {quote_table(TABLE)}")
    return {r["dataset_id"]: None if pd.isna(r["reconciliation_holds"]) else bool(r["reconciliation_holds"])
            for r in rows if r["dataset_id"] in wanted}


def write_scores(con: duckdb.DuckDBPyConnection, frame: pd.DataFrame) -> int:
    return write_table(con, TABLE, frame, DESCRIPTION, COLUMN_DOCS, COLUMN_TYPES)
