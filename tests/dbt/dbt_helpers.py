"""Running the real dbt project and landing a real demo city, for the dbt tests."""
from __future__ import annotations

import json
import os
import subprocess
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pytest

from data_inventory import load_inventory
from demo_city.servers import serve_in_thread
from citystat.connectors import ConnectorOptions, RetryPolicy, build_connector
from orchestration.lib.dbt_project import DBT_PROJECT_DIR, dbt_executable
from citystat.ingestion import is_automated, source_spec
from citystat.landing import Landing

FAST = ConnectorOptions(retry=RetryPolicy(attempts=3, initial_wait=0.01, max_wait=0.05), http_timeout=10.0,
                        page_size=1000, chunk_rows=50_000, sqlite_busy_timeout=0.5)


@dataclass(frozen=True)
class Warehouse:
    """A landing folder and the DuckDB file dbt builds from it, plus dbt's artefacts for that build."""

    landing: Path
    db: Path
    target: Path

    def env(self) -> dict[str, str]:
        return {"CITYSTAT_LANDING_DIR": str(self.landing), "CITYSTAT_WORK_DB": str(self.db)}

    def connect(self) -> duckdb.DuckDBPyConnection:
        return duckdb.connect(str(self.db), read_only=True)

    def run_results(self) -> list[dict]:
        return json.loads((self.target / "run_results.json").read_text())["results"]


def land(city: Path, landing_dir: Path) -> dict[tuple[str, str], int]:
    """Land every automated inventory dataset of ``city`` with the real connectors (APIs served on loopback)."""
    landing = Landing(landing_dir)
    rows = {}
    with serve_in_thread(city) as server, pytest.MonkeyPatch.context() as env:
        env.setenv("CITYSTAT_OPEN311_URL", f"{server.url}/open311/v2")
        env.setenv("CITYSTAT_SODA_URL", server.url)
        for ref in load_inventory().datasets():
            if is_automated(ref):
                rows[ref.key] = landing.load(build_connector(source_spec(ref, city), FAST)).rows
    return rows


def dbt(warehouse: Warehouse, *args: str, check: bool = True) -> subprocess.CompletedProcess:
    """Run dbt on ``warehouse``; artefacts and logs go to the warehouse's own target folder, never the repo's."""
    command = [dbt_executable(), *args, "--project-dir", str(DBT_PROJECT_DIR), "--profiles-dir", str(DBT_PROJECT_DIR),
               "--target-path", str(warehouse.target), "--log-path", str(warehouse.target / "logs")]
    result = subprocess.run(command, cwd=DBT_PROJECT_DIR, env={**os.environ, **warehouse.env()},
                            capture_output=True, text=True, timeout=900)
    if check and result.returncode != 0:
        raise AssertionError(f"dbt {' '.join(args)} failed ({result.returncode}):\n{result.stdout[-6000:]}\n{result.stderr[-3000:]}")
    return result


def tables(con: duckdb.DuckDBPyConnection, *schemas: str) -> list[tuple[str, str]]:
    return con.execute(
        "SELECT schema_name, table_name FROM duckdb_tables() WHERE schema_name IN (SELECT unnest(?::VARCHAR[])) ORDER BY ALL",
        [list(schemas)],
    ).fetchall()


def table_differences(a: Path, b: Path, schemas: tuple[str, ...], ignore=("_extracted_at", "_landing_file")) -> dict[str, tuple[int, int]]:
    """{schema.table: (rows only in a, rows only in b)} for every table of ``schemas`` that differs (EXCEPT ALL both ways)."""
    con = duckdb.connect()
    con.execute(f"ATTACH '{a}' AS a (READ_ONLY)")
    con.execute(f"ATTACH '{b}' AS b (READ_ONLY)")
    names_a = set(con.execute("SELECT schema_name || '.' || table_name FROM duckdb_tables() WHERE database_name = 'a'").fetchall())
    names_b = set(con.execute("SELECT schema_name || '.' || table_name FROM duckdb_tables() WHERE database_name = 'b'").fetchall())
    assert names_a == names_b, f"different tables: {sorted(names_a ^ names_b)}"
    differences = {}
    for (name,) in sorted(names_a):
        schema, table = name.split(".")
        if schema not in schemas:
            continue
        columns = [(c, t) for (c, t) in con.execute(
            "SELECT column_name, data_type FROM duckdb_columns() WHERE database_name = 'a' AND schema_name = ? AND table_name = ? "
            "ORDER BY column_index", [schema, table]).fetchall() if c not in ignore]
        # floating-point results may differ in the last bits with the order rows were summed in: compare 12 digits
        select = ", ".join(f"printf('%.12g', \"{c}\")" if t in ("DOUBLE", "FLOAT") else f'"{c}"' for c, t in columns)
        only_a = con.execute(f"SELECT count(*) FROM (SELECT {select} FROM a.{name} EXCEPT ALL SELECT {select} FROM b.{name})").fetchone()[0]
        only_b = con.execute(f"SELECT count(*) FROM (SELECT {select} FROM b.{name} EXCEPT ALL SELECT {select} FROM a.{name})").fetchone()[0]
        if only_a or only_b:
            differences[name] = (only_a, only_b)
    return differences
