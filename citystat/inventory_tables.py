"""The `inventory` schema: the citywide data inventory as tables for the chief data officer's view.

Joins what the inventory says (departments, systems, datasets, fields, owners, cadence, sensitivity,
publication) with what the landing ledger shows happened (last load, rows landed, fresh or stale), and
the KPI registry's lineage (which datasets each KPI depends on).
"""
from __future__ import annotations

import datetime as dt

import duckdb
import pandas as pd

from data_inventory import load_inventory
from data_inventory.coverage import department_coverage, inventory_criterion
from citystat.landing import Landing
from citystat.settings import landing_dir
from citystat.warehouse import write_table

TABLE_DOCS = {
    "departments": "One row per city department: how much of its data the inventory covers and CityStat automates.",
    "datasets": "One row per inventoried dataset: owner, steward, connector, cadence, access level, publication, "
    "and from the landing ledger its last load, rows landed and freshness (fresh / stale / never loaded / not automated).",
    "fields": "One row per field of every dataset: type, required, sensitivity (pii fields never reach marts).",
    "kpi_lineage": "Which inventory datasets each KPI is computed from (the KPI registry's lineage).",
    "criterion": "The What Works Cities data-inventory criterion, part by part (3 of 4 meets it).",
}


def _last_loads(landing: Landing) -> dict[tuple[str, str], dict]:
    last: dict[tuple[str, str], dict] = {}
    for entry in landing.entries():
        key = (entry["system"], entry["dataset"])
        seen = last.setdefault(key, {"loads": 0, "rows": 0, "landed_at": None})
        seen["loads"] += 1
        seen["rows"] += int(entry.get("rows") or 0)
        seen["landed_at"] = max(filter(None, [seen["landed_at"], entry.get("landed_at")]), default=None)
    return last


def inventory_tables(now: dt.datetime | None = None) -> dict[str, pd.DataFrame]:
    """The inventory, its coverage and its load history as DataFrames (one per `inventory.*` table)."""
    now = now or dt.datetime.now(dt.timezone.utc)
    inventory = load_inventory()
    loads = _last_loads(Landing(landing_dir()))
    datasets, fields = [], []
    for ref in inventory.datasets():
        ds = ref.dataset
        seen = loads.get(ref.key, {})
        landed_at = pd.Timestamp(seen["landed_at"]) if seen.get("landed_at") else None
        age_hours = (pd.Timestamp(now) - landed_at).total_seconds() / 3600 if landed_at is not None else None
        if not ds.ingested:
            freshness = "not automated"
        elif landed_at is None:
            freshness = "never loaded"
        else:
            freshness = "fresh" if age_hours <= ds.freshness_hours else "stale"
        datasets.append({
            "department_code": ref.department.id, "department_name": ref.department.name,
            "system_id": ref.system.id, "system_name": ref.system.name, "system_kind": ref.system.kind,
            "dataset_id": ds.id, "title": ds.title, "description": ds.description,
            "owner": ds.owner.name, "owner_email": ds.owner.email, "steward": ds.steward.name,
            "connector": ds.connector, "cadence": ds.cadence, "freshness_hours": ds.freshness_hours,
            "update_method": ds.update_method, "access_level": ds.access_level,
            "publication_status": ds.publication.status, "priority": ds.priority,
            "field_count": len(ds.fields), "pii_field_count": sum(f.sensitivity == "pii" for f in ds.fields),
            "quality_concerns": "; ".join(ds.quality_concerns),
            "loads": seen.get("loads", 0), "rows_landed": seen.get("rows", 0),
            "last_loaded_at": landed_at.tz_convert(None) if landed_at is not None else None,
            "hours_since_load": age_hours, "freshness": freshness,
        })
        for position, f in enumerate(ds.fields, 1):
            fields.append({
                "system_id": ref.system.id, "dataset_id": ds.id, "position": position, "field_name": f.name,
                "type": f.type, "required": f.required, "sensitivity": f.sensitivity, "description": f.description,
                "allowed_values": ", ".join(f.allowed_values) if f.allowed_values else None,
                "minimum": f.minimum, "maximum": f.maximum, "is_primary_key": f.name in ds.primary_key,
            })
    departments = [{
        "department_code": c.department.id, "department_name": c.department.name,
        "contact": c.department.contact.name, "datasets": c.datasets, "ingested": c.ingested,
        "automated": c.automated, "published": c.published,
        "automated_share": c.share(c.automated), "published_share": c.share(c.published),
    } for c in department_coverage(inventory)]
    criterion = [{"part": c.name, "met": c.met, "detail": c.detail} for c in inventory_criterion(inventory, now.date())]
    return {
        "departments": pd.DataFrame(departments),
        "datasets": pd.DataFrame(datasets),
        "fields": pd.DataFrame(fields),
        "kpi_lineage": _kpi_lineage(),
        "criterion": pd.DataFrame(criterion),
    }


def _kpi_lineage() -> pd.DataFrame:
    from citystat.kpi.registry import load_registry

    rows = [
        {"kpi_id": kpi.id, "kpi_name": kpi.name, "department_code": kpi.department_code, "source": kpi.source,
         "system_id": dataset.split(".")[0], "dataset_id": dataset.split(".")[1]}
        for kpi in load_registry().kpis.values() for dataset in kpi.lineage
    ]
    return pd.DataFrame(rows, columns=["kpi_id", "kpi_name", "department_code", "source", "system_id", "dataset_id"])


def write_inventory_tables(con: duckdb.DuckDBPyConnection, tables: dict[str, pd.DataFrame] | None = None) -> dict[str, pd.DataFrame]:
    """Replace every ``inventory.*`` table (``inventory_tables()`` unless given) in the warehouse."""
    tables = tables if tables is not None else inventory_tables()
    for name, frame in tables.items():
        write_table(con, f"inventory.{name}", frame, TABLE_DOCS[name])
    return tables


def summary(tables: dict[str, pd.DataFrame]) -> dict:
    """The inventory at a glance (the asset's materialization metadata)."""
    datasets = tables["datasets"]
    return {
        "departments": len(tables["departments"]),
        "datasets": len(datasets),
        "automated": int((datasets["update_method"] == "automated").sum()),
        "stale_or_never_loaded": int(datasets["freshness"].isin(["stale", "never loaded"]).sum()),
    }
