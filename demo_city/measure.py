"""Build a warehouse from a demo city without Dagster (demo-city tooling: it lives here because the pipeline
never imports the demo city), to measure the quality checks against the city's
defect manifest (tests/quality, benchmarks/quality_detection.py): land every automated source (the demo
servers on loopback for Open311/SODA), then ``dbt run`` into a private working warehouse.

Real pieces only: the ingestion's connectors and landing, the dbt project, DuckDB. Each step is timed.
"""
from __future__ import annotations

import json
import os
import subprocess
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator

from data_inventory import Inventory, load_inventory
from citystat.connectors import ConnectorOptions, RetryPolicy, build_connector
from citystat.settings import dbt_executable
from citystat.ingestion import is_automated, source_spec
from citystat.landing import Landing, LoadResult
from citystat.settings import project_root


@dataclass
class BuiltWarehouse:
    city: Path
    warehouse: Path
    seconds: dict[str, float] = field(default_factory=dict)
    loads: dict[str, LoadResult] = field(default_factory=dict)

    @property
    def landing(self) -> Landing:
        return Landing(self.warehouse / "landing")

    @property
    def work_db(self) -> Path:
        return self.warehouse / "work.duckdb"


@contextmanager
def demo_servers(city: Path) -> Iterator[None]:
    """The demo city's Open311/SODA app on a free loopback port, with the inventory's env vars pointing at it."""
    from demo_city.servers import serve_in_thread  # lazy: the servers pull in the web stack

    keys = ("CITYSTAT_OPEN311_URL", "CITYSTAT_SODA_URL")
    saved = {k: os.environ.get(k) for k in keys}
    with serve_in_thread(city) as server:
        os.environ["CITYSTAT_OPEN311_URL"] = f"{server.url}/open311/v2"
        os.environ["CITYSTAT_SODA_URL"] = server.url
        try:
            yield
        finally:
            for k, v in saved.items():
                os.environ.pop(k, None) if v is None else os.environ.__setitem__(k, v)


def land_everything(city: Path, landing: Landing, inventory: Inventory | None = None) -> dict[str, LoadResult]:
    """One load of every automated dataset; a dataset whose files drifted lands its other files."""
    inventory = inventory or load_inventory()
    options = ConnectorOptions(retry=RetryPolicy(attempts=2, initial_wait=0.05, max_wait=0.2))
    results = {}
    with demo_servers(city):
        for ref in inventory.datasets():
            if is_automated(ref):
                results[ref.name] = landing.load(build_connector(source_spec(ref, city), options))
    return results


def run_dbt(warehouse: Path, as_of: str | None = None, command: str = "build") -> float:
    """``dbt <command>`` (seeds and models; dbt's own tests are the dbt layer's business) of the project into
    ``<warehouse>/work.duckdb``; target and logs stay in the warehouse folder so a measurement never touches
    the shared dbt_project/target."""
    project = project_root() / "dbt_project"
    env = {**os.environ, "CITYSTAT_WORK_DB": str(warehouse / "work.duckdb"), "CITYSTAT_LANDING_DIR": str(warehouse / "landing")}
    args = [dbt_executable(), command, "--project-dir", str(project), "--profiles-dir", str(project),
            "--target-path", str(warehouse / "dbt_target"), "--log-path", str(warehouse / "dbt_logs"), "--quiet"]
    if command == "build":
        args += ["--exclude-resource-type", "test"]
    if as_of:
        args += ["--vars", json.dumps({"as_of": as_of})]
    started = time.perf_counter()
    done = subprocess.run(args, cwd=project, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"dbt {command} failed ({done.returncode}):\n{done.stdout[-4000:]}\n{done.stderr[-2000:]}")
    return time.perf_counter() - started


def build_warehouse(city: Path, warehouse: Path, inventory: Inventory | None = None) -> BuiltWarehouse:
    built = BuiltWarehouse(Path(city), Path(warehouse))
    started = time.perf_counter()
    built.loads = land_everything(built.city, built.landing, inventory)
    built.seconds["land"] = time.perf_counter() - started
    as_of = json.loads((built.city / "generation.json").read_text())["as_of"]
    built.seconds["dbt"] = run_dbt(built.warehouse, as_of)
    return built
