"""What a city's dbt project (``<warehouse>/dbt_project``, used when ``$CITYSTAT_INVENTORY`` names another city's
inventory) changes from the shipped one, written by ``citystat generate`` over the copy:

* the demo systems the city does not have read as empty landings (every declared field, no row), so the shipped
  hand-written models still build, empty, and the city's facts and KPIs are not held back by missing files;
* its seeds are its own: ``departments.csv`` lists the city inventory's departments, and the KPI registry and
  targets keep the KPIs of those departments only (the registry may only name departments of the inventory), and
  so do the semantic-layer metrics. A ``kpi_targets.csv`` beside the city's inventory file (``kpi_id, fiscal_year,
  target``) replaces the demo's targets, so the city's KPIs get their red/yellow/green against its own targets.
"""
from __future__ import annotations

import csv
import io
from pathlib import Path

import yaml

from citystat.settings import project_root, shipped_dbt_project_dir
from citystat.warehouse import quote_identifier
from data_inventory import load_inventory

# the landing columns every landed Parquet file has (docs/contracts.md, "Landing"), plus read_parquet's filename
LANDING_COLUMNS = {"_load_id": "varchar", "_extracted_at": "timestamp with time zone", "_source_cursor": "varchar",
                   "_source_file": "varchar", "_row_number": "bigint", "filename": "varchar"}
CITY_TARGETS = "kpi_targets.csv"  # beside the city's inventory file: its own targets instead of the demo's
SQL_TYPES = {"string": "varchar", "integer": "bigint", "number": "double", "boolean": "boolean", "date": "date",
             "datetime": "timestamp"}


def _shipped_inventory():
    return load_inventory(project_root() / "data_inventory" / "inventory.yaml")


def empty_landing(fields) -> str:
    """A relation with the landing's columns and no row, for a source whose system the city does not have."""
    columns = [f"cast(null as {SQL_TYPES.get(f.type, 'varchar')}) as {quote_identifier(f.name)}" for f in fields]
    columns += [f"cast(null as {sql_type}) as {name}" for name, sql_type in LANDING_COLUMNS.items()]
    return f"(select {', '.join(columns)} where false)"


def absent_system_sources(project: Path, city_systems: set[str], shipped) -> dict[Path, str]:
    """{sources file: text} for each shipped system (of the ``shipped`` inventory) the city's inventory does not
    have: read as an empty landing."""
    from citystat.dbt_sources import HEADER

    fields = {(ref.system.id, ref.dataset.id): ref.dataset.fields for ref in shipped.datasets() if ref.dataset.ingested}
    files: dict[Path, str] = {}
    for path in sorted((shipped_dbt_project_dir() / "models" / "staging").glob("*/_*__sources.yml")):
        system = path.parent.name
        if system in city_systems:
            continue
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
        for source in document["sources"]:
            source["description"] = f"Not a system of this city: reads as an empty landing. {source.get('description', '')}"
            del source["meta"]["external_location"]
            for table in source["tables"]:
                table.setdefault("meta", {})["external_location"] = empty_landing(fields[(system, table["name"])])
        files[project / path.relative_to(shipped_dbt_project_dir())] = HEADER + yaml.safe_dump(document, sort_keys=False, width=120)
    return files


def _csv(header: list[str], rows: list[dict]) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=header, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue()


def _read(path: Path) -> tuple[list[str], list[dict]]:
    with path.open(newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        return list(reader.fieldnames or []), list(reader)


def city_seeds(project: Path, inventory, kpis: dict) -> dict[Path, str]:
    """The city's departments, the shipped KPI registry cut to ``kpis`` (those of its departments), and its targets:
    its own file beside its inventory (checked like the shipped one), else the shipped targets of those KPIs."""
    from citystat.kpi.registry import load_targets

    shipped = shipped_dbt_project_dir() / "seeds"
    seeds = project / "seeds"
    files = {seeds / "departments.csv": _csv(["department_code", "department_name"],
                                             [{"department_code": d.id, "department_name": d.name}
                                              for d in inventory.departments])}
    header, rows = _read(shipped / "kpi_registry.csv")
    kept = [row for row in rows if row["id"] in kpis]
    for row in kept:  # a pair whose other half belongs to a department the city does not have is no pair here
        if row.get("paired_kpi_id") and row["paired_kpi_id"] not in kpis:
            row["paired_kpi_id"] = ""
    files[seeds / "kpi_registry.csv"] = _csv(header, kept)
    own = inventory.path.parent / CITY_TARGETS if inventory.path else None
    if own is not None and own.is_file():
        load_targets(own, kpis)  # raises ValidationError naming file, line and field of every bad row
        header, rows = _read(own)
    else:
        header, rows = _read(shipped / "kpi_targets.csv")
    files[seeds / "kpi_targets.csv"] = _csv(header, [row for row in rows if row["kpi_id"] in kpis])
    return files


def city_metrics(project: Path, kpis: dict) -> dict[Path, str]:
    """The semantic-layer metrics of the city's KPIs."""
    from citystat.kpi import semantic
    from citystat.kpi.registry import Registry

    path = project / semantic.METRICS_FILE.relative_to(shipped_dbt_project_dir())
    return {path: semantic.render(Registry(kpis=kpis, targets={}))}


def city_files(project: Path) -> dict[Path, str]:
    """Every file of the city's project that differs from the shipped one by design (besides the generated models)."""
    from citystat.kpi.registry import REGISTRY_PATH, TARGETS_PATH, load_registry

    inventory, shipped_inventory = load_inventory(), _shipped_inventory()
    shipped = load_registry(REGISTRY_PATH, TARGETS_PATH, departments=frozenset(d.id for d in shipped_inventory.departments))
    departments = {d.id for d in inventory.departments}
    kpis = {kpi_id: kpi for kpi_id, kpi in shipped.kpis.items() if kpi.department_code in departments}
    city_systems = {ref.system.id for ref in inventory.datasets()}
    return {**absent_system_sources(project, city_systems, shipped_inventory), **city_seeds(project, inventory, kpis),
            **city_metrics(project, kpis)}
