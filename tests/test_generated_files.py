"""The files generated from the inventory and the KPI registry (dbt sources, GX suites, semantic-layer metrics)
are committed up to date: `citystat generate --check` exits 0, and names a file someone edited by hand."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SOURCES = ROOT / "dbt_project" / "models" / "staging" / "crm311" / "_crm311__sources.yml"


def _check() -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "citystat.cli", "generate", "--check"], cwd=ROOT,
                          capture_output=True, text=True, timeout=110)


@pytest.mark.timeout(120)
def test_generated_files_are_up_to_date():
    done = _check()
    assert done.returncode == 0, f"run `citystat generate` and commit the files:\n{done.stdout}{done.stderr}"


@pytest.mark.timeout(120)
def test_a_hand_edited_generated_file_is_named():
    original = SOURCES.read_bytes()
    try:
        SOURCES.write_bytes(original + b"# edited by hand\n")
        done = _check()
    finally:
        SOURCES.write_bytes(original)
    assert done.returncode == 1, done.stdout + done.stderr
    assert "stale: dbt_project/models/staging/crm311/_crm311__sources.yml" in done.stdout
    assert "run `citystat generate`" in done.stdout
