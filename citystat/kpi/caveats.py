"""Caveats: data held back at landing, shown where the numbers are.

A file refused at landing (schema drift: its columns differ from the inventory) is not in the warehouse, so
every KPI computed from that dataset may be short until the file is fixed and landed. The caveat names the
dataset and the files so nobody reads a silently short number (issue 13; docs/kpi_rules.md, "Caveats").
"""
from __future__ import annotations

from pathlib import Path

import pandas as pd

from citystat.kpi.registry import Registry


def held_back_files(data_dir: Path | None = None, landing_dir: Path | None = None) -> dict[str, list[str]]:
    """{'system.dataset': [file, ...]} for every automated file-drop dataset with files refused for schema drift.

    Read from the drop folders and the landing ledger, the same way the raw assets' ``schema_drift`` check and
    quality.dataset_scores see them."""
    from data_inventory import load_inventory
    from citystat import settings
    from citystat.ingestion import is_automated
    from citystat.landing import Landing
    from citystat.quality.drift import drifted_files

    data_dir = Path(data_dir) if data_dir else settings.data_dir()
    landing = Landing(Path(landing_dir) if landing_dir else settings.landing_dir())
    found: dict[str, list[str]] = {}
    for ref in load_inventory().datasets():
        if not is_automated(ref):
            continue
        files = sorted(d.file for d in drifted_files(ref, landing, data_dir))
        if files:
            found[".".join(ref.key)] = files
    return found


def caveat_for(lineage: tuple[str, ...] | list[str], held_back: dict[str, list[str]]) -> str | None:
    """The caveat of a KPI whose value comes from ``lineage``: one sentence per dataset with held-back files."""
    parts = []
    for dataset in lineage:
        files = held_back.get(dataset)
        if files:
            shown = ", ".join(files[:3]) + (f" and {len(files) - 3} more" if len(files) > 3 else "")
            parts.append(f"{len(files)} file(s) of {dataset} held back at landing (schema drift: {shown}); "
                         f"values may be short until the file is fixed and landed")
    return "; ".join(parts) or None


def kpi_caveats(registry: Registry, held_back: dict[str, list[str]]) -> dict[str, str]:
    """{kpi_id: caveat} for the registry KPIs that read a dataset with held-back files."""
    out = {}
    for kpi_id, kpi in registry.kpis.items():
        text = caveat_for(kpi.lineage, held_back)
        if text:
            out[kpi_id] = text
    return out


def add_caveats(table: pd.DataFrame, caveats: dict[str, str]) -> pd.DataFrame:
    """A ``caveat`` column on a frame with ``kpi_id`` (every period of an affected KPI carries it: the file's
    rows may belong to any month)."""
    out = table.copy()
    out["caveat"] = out["kpi_id"].map(lambda k: caveats.get(k))
    return out
