"""Helpers for tests that run the real `citystat` command line on a small demo city (see the `pipeline` fixture)."""
import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CITYSTAT = [sys.executable, "-m", "citystat.cli"]
PIPELINE_SCALE = "0.1"


def pipeline_env(tmp: Path) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CITYSTAT_", "DAGSTER_"))}
    env.update(CITYSTAT_DATA_DIR=str(tmp / "city"), CITYSTAT_WAREHOUSE_DIR=str(tmp / "warehouse"),
               DAGSTER_HOME=str(tmp / "dagster_home"), CITYSTAT_AS_OF="2026-10-31")
    return env


def copy_of_pipeline(source: Path, copy: Path) -> dict:
    """A copy of a pipeline folder (city, warehouse, Dagster instance) for a test to change, and the env to run it.
    Lock files stay behind: they belong to the processes of the original."""
    shutil.copytree(source, copy, ignore=shutil.ignore_patterns("*.lock"))
    return pipeline_env(copy)


def advanced_as_of(tmp: Path) -> str:
    """The as-of date the pipeline folder's demo city states (moved by `demo-city advance`)."""
    return json.loads((tmp / "city" / "generation.json").read_text(encoding="utf-8"))["as_of"]


def citystat(env: dict, *args: str, check: bool = True) -> subprocess.CompletedProcess:
    """Run the real `citystat` command line in a subprocess."""
    result = subprocess.run([*CITYSTAT, *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=1800)
    if check and result.returncode != 0:
        raise AssertionError(f"citystat {' '.join(args)} exited {result.returncode}\n{result.stdout[-4000:]}\n{result.stderr[-4000:]}")
    return result


@dataclass
class PipelineRun:
    tmp: Path
    env: dict
    first_run: subprocess.CompletedProcess

    @property
    def snapshot(self) -> Path:
        return self.tmp / "warehouse" / "citystat.duckdb"


# ---- helpers for the runner and recovery tests (tests/orchestration/test_run.py, test_recovery.py)

def small_city(tmp: Path, clean: bool = True, scale: str = "0.05") -> dict:
    """A tiny demo city (no planted defects by default, so a good run exits 0) and the env to run it."""
    env = pipeline_env(tmp)
    args = ["demo-city", "generate", "--out", str(tmp / "city"), "--scale", scale]
    citystat(env, *args, *(["--clean"] if clean else []))
    return env


def start_citystat(env: dict, *args: str, log: Path) -> subprocess.Popen:
    """`citystat ...` in the background (output to `log`), for tests that interrupt or kill it."""
    out = open(log, "w")
    return subprocess.Popen([*CITYSTAT, *args], cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)


def open_instance(env: dict):
    """The Dagster instance a `citystat run` with `env` uses (read from the test process, under the same lock)."""
    from orchestration.lib.instance import open_instance as open_locked

    return open_locked(env["DAGSTER_HOME"])


def wait_for_step_start(env: dict, step_key: str, proc: subprocess.Popen, timeout: float = 600):
    """Poll the instance until `step_key` has started in a run still going (not an earlier one); returns its id."""
    import time

    from dagster import DagsterEventType

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"citystat exited {proc.returncode} before step {step_key} started")
        if Path(env["DAGSTER_HOME"], "history").exists():
            with open_instance(env) as instance:
                for record in instance.get_run_records():
                    if record.dagster_run.is_finished:
                        continue
                    starts = instance.get_records_for_run(record.dagster_run.run_id, of_type=DagsterEventType.STEP_START).records
                    if any(r.event_log_entry.dagster_event.step_key == step_key for r in starts):
                        return record.dagster_run.run_id
        time.sleep(0.5)
    raise AssertionError(f"step {step_key} did not start within {timeout} s")


def mart_digest(snapshot: Path, ignore: tuple[str, ...] = ()) -> dict:
    """An order-independent digest of every mart table (equal digests = identical contents), leaving out the
    `ignore` columns (e.g. the load lineage `_load_id`/`_extracted_at`, which differ between two builds)."""
    import duckdb

    con = duckdb.connect(str(snapshot), read_only=True)
    try:
        names = [t for (t,) in con.execute("SELECT table_name FROM duckdb_tables() WHERE schema_name='marts'").fetchall()]
        digest = {}
        for t in names:
            columns = [c for (c,) in con.execute("SELECT column_name FROM duckdb_columns() WHERE schema_name='marts' AND "
                                                 "table_name=? ORDER BY column_index", [t]).fetchall() if c not in ignore]
            select = ", ".join(f'"{c}"' for c in columns)
            digest[t] = con.execute(f'SELECT count(*), sum(hash(r)) FROM (SELECT {select} FROM marts."{t}") r').fetchone()
        return digest
    finally:
        con.close()


CHROMIUM = Path("/usr/bin/chromium")
# Chromium on a machine with no internet: no background calls home (see shared TOOLCHAIN notes).
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]


def launch_chromium():
    """Debian's Chromium, headless, through Playwright (a generator for a module fixture: yields the browser)."""
    import pytest
    from playwright.sync_api import sync_playwright

    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: run scripts/install_system_deps.sh (installs Debian's chromium)")
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()
