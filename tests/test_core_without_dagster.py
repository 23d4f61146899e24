"""The core (`citystat`) runs without Dagster: every module imports in a Python where importing dagster,
any dagster_* package or the orchestration layer raises ImportError (the Dagster layer depends on the core,
never the other way round)."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

IMPORT_EVERY_MODULE = r"""
import importlib, json, pkgutil, sys, traceback

class NoDagster:
    # a meta-path finder consulted first: the blocked packages cannot be found, whatever is installed
    def find_spec(self, name, path=None, target=None):
        top = name.split(".")[0]
        if top == "dagster" or top.startswith("dagster_") or top == "orchestration":
            raise ImportError(f"{name} is blocked: the core must not import the Dagster layer")
        return None

sys.meta_path.insert(0, NoDagster())
import citystat

failed, imported = {}, []
for info in pkgutil.walk_packages(citystat.__path__, "citystat.", onerror=lambda name: failed.setdefault(name, traceback.format_exc())):
    try:
        importlib.import_module(info.name)
        imported.append(info.name)
    except BaseException:
        failed[info.name] = traceback.format_exc(limit=-3)
print(json.dumps({"imported": imported, "failed": failed}))
"""


@pytest.mark.timeout(120)
def test_every_citystat_module_imports_without_dagster():
    done = subprocess.run([sys.executable, "-c", IMPORT_EVERY_MODULE], cwd=ROOT, capture_output=True, text=True,
                          timeout=110)
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert not result["failed"], "\n\n".join(f"{name}:\n{error}" for name, error in result["failed"].items())
    assert {"citystat.warehouse", "citystat.kpi.metrics_tables", "citystat.budget.metrics"} <= set(result["imported"])


@pytest.mark.timeout(120)
def test_the_blocker_blocks_dagster():
    probe = IMPORT_EVERY_MODULE.split("import citystat")[0] + "import dagster_duckdb\n"
    done = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, timeout=110)
    assert done.returncode != 0 and "dagster_duckdb is blocked" in done.stderr
