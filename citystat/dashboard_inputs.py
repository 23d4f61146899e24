"""What an Evidence build of the dashboards reads, as one fingerprint: unchanged inputs need no new build.

The site is a function of the snapshot tables its source queries read (their columns and rows), the project's
own files (pages, components, source queries, config), the Node install (lockfile, patches, Node version) and
the city's name. Each table gets an order-independent digest of its rows, computed inside DuckDB (no copy), so
the record also says *which* tables changed.

Fail closed, like the dbt skip (orchestration/lib/dbt_inputs.py): the record is removed before a build and
written only after the new site is in place, so a failed or interrupted build always builds again.
"""
from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import duckdb

from citystat.release_folders import write_whole
from citystat.warehouse import open_file, quote_identifier

RECORD_SUFFIX = ".inputs.json"
# Written by the build itself (or by npm): never part of what the site is built from.
GENERATED = {"node_modules", ".evidence", ".svelte-kit", "build", "static/data"}  # folders, from the project root
GENERATED_SUFFIXES = (".duckdb", ".partial", ".lock", ".wal")


def record_path(site_dir: Path) -> Path:
    """Beside the site folder (not inside it: the site is served as is)."""
    return site_dir.with_name(site_dir.name + RECORD_SUFFIX)


def table_digests(snapshot: Path, tables: list[tuple[str, str]]) -> dict[str, str]:
    """'schema.table' -> digest of its column names/types and its rows as a multiset (row order does not count)."""
    digests = {}
    with open_file(snapshot) as con:
        for schema, table in tables:
            qualified = f"{quote_identifier(schema)}.{quote_identifier(table)}"
            columns = con.execute(f"select column_name, column_type from (describe {qualified})").fetchall()
            # sum and xor of 64-bit row hashes: equal rows do not cancel out in the sum, and the count pins it down.
            rows = con.execute(
                f"select count(*), coalesce(sum(hash(t)), 0)::varchar, coalesce(bit_xor(hash(t)), 0) from {qualified} t"
            ).fetchone()
            digests[f"{schema}.{table}"] = hashlib.sha256(json.dumps([columns, list(rows)], default=str).encode()).hexdigest()
    return digests


def project_digest(project_dir: Path) -> str:
    """SHA-256 over every file of the Evidence project that is not a build or install product."""
    digest = hashlib.sha256()
    files = []
    for folder, subfolders, names in os.walk(project_dir):
        relative_folder = Path(folder).relative_to(project_dir)
        # Pruned, not filtered: node_modules alone holds tens of thousands of files.
        subfolders[:] = [name for name in subfolders if (relative_folder / name).as_posix() not in GENERATED]
        files += [relative_folder / name for name in names if not name.endswith(GENERATED_SUFFIXES)]
    for relative in sorted(files, key=Path.as_posix):
        digest.update(relative.as_posix().encode() + b"\0" + (project_dir / relative).read_bytes() + b"\0")
    return digest.hexdigest()


def fingerprint(snapshot: Path, tables: list[tuple[str, str]], project_dir: Path, install: str, city: str) -> dict:
    return {"tables": table_digests(snapshot, tables), "project_sha256": project_digest(project_dir),
            "install_sha256": install, "city": city}


def what_changed(site_dir: Path, current: dict) -> list[str] | None:
    """Why the site must be built again ('metrics.kpi_status', 'the dashboards project', ...); [] if it need not."""
    if not (site_dir / "index.html").is_file():
        return ["no built site"]
    try:
        recorded = json.loads(record_path(site_dir).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return ["no record of the last build"]
    if not isinstance(recorded, dict) or not isinstance(recorded.get("tables"), dict):
        return ["no record of the last build"]
    reasons = sorted(name for name in set(current["tables"]) | set(recorded["tables"])
                     if current["tables"].get(name) != recorded["tables"].get(name))
    labels = {"project_sha256": "the dashboards project", "install_sha256": "the Node install", "city": "the city name"}
    reasons += [label for key, label in labels.items() if current[key] != recorded.get(key)]
    return reasons


def forget(site_dir: Path) -> None:
    """Before a build: until it finishes, the site on disk is not known to match anything."""
    record_path(site_dir).unlink(missing_ok=True)


def remember(site_dir: Path, current: dict) -> None:
    write_whole(record_path(site_dir), json.dumps(current, indent=1, sort_keys=True) + "\n")
