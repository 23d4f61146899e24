"""The city's open-data declaration (data_inventory/open_data.yaml): what is published and the privacy threshold."""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from citystat.settings import project_root, warehouse_dir

CONFIG_ENV = "CITYSTAT_OPEN_DATA_CONFIG"
DEFAULT_K = 10


@dataclass(frozen=True)
class DatasetExport:
    dataset: str  # <system>.<dataset> in the inventory
    table: str  # schema.table in the published snapshot
    quasi_identifiers: tuple[str, ...] = ()


@dataclass(frozen=True)
class AggregateExport:
    id: str
    title: str
    table: str
    rows: str
    columns: str


@dataclass(frozen=True)
class OpenDataConfig:
    k: int = DEFAULT_K
    base_url: str = ""
    datasets: tuple[DatasetExport, ...] = ()
    aggregates: tuple[AggregateExport, ...] = field(default_factory=tuple)
    kpis: tuple[str, ...] = ()  # KPI ids whose monthly series (and registry definitions) are published
    goals: bool = False  # publish the strategic goals' progress, pace and method


def load_config(path: Path | None = None) -> OpenDataConfig:
    path = Path(path or os.environ.get(CONFIG_ENV) or project_root() / "data_inventory" / "open_data.yaml")
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    k = int(data.get("k", DEFAULT_K))
    if k < 2:
        raise ValueError(f"{path}: k must be at least 2 (got {k})")
    return OpenDataConfig(
        k=k,
        base_url=str(data.get("base_url", "")).rstrip("/"),
        datasets=tuple(DatasetExport(name, spec["table"], tuple(spec.get("quasi_identifiers") or ()))
                       for name, spec in (data.get("datasets") or {}).items()),
        aggregates=tuple(AggregateExport(name, spec.get("title", name), spec["table"], spec["rows"], spec["columns"])
                         for name, spec in (data.get("aggregates") or {}).items()),
        kpis=tuple(str(kpi) for kpi in data.get("kpis") or ()),
        goals=bool(data.get("goals", False)),
    )


def open_data_dir() -> Path:
    """Released exports (``<warehouse>/open_data``): the only folder the public site and data.json point into."""
    return warehouse_dir() / "open_data"


def review_log_path() -> Path:
    """Privacy review items and approvals, kept beside (not inside) the released folder."""
    return warehouse_dir() / "open_data_review.json"
