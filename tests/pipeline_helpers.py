"""Helpers for tests that run the real `citystat` command line on a small demo city (see the `pipeline` fixture)."""
import os
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
