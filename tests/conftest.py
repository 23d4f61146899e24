"""Shared fixtures: one small demo city run through the whole pipeline, for the tests that need a real snapshot."""
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
CITYSTAT = [sys.executable, "-m", "orchestration.cli"]
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


@pytest.fixture(scope="session")
def pipeline(tmp_path_factory) -> PipelineRun:
    """A scale-0.1 demo city (with its defects), served on loopback and run through `citystat run` once."""
    tmp = tmp_path_factory.mktemp("pipeline")
    env = pipeline_env(tmp)
    citystat(env, "demo-city", "generate", "--out", str(tmp / "city"), "--scale", PIPELINE_SCALE)
    return PipelineRun(tmp, env, citystat(env, "run", "--no-dashboards", check=False))
