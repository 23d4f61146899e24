"""The dbt project's fingerprint (orchestration/lib/dbt_inputs.py) follows the project, not the parse: two real
`dbt parse` runs of the same project give the same fingerprint although their manifest files differ (invocation id,
generated_at, every node's created_at), and an edited model changes it."""
from __future__ import annotations

import json
import shutil
import subprocess

import pytest

from orchestration.lib.dbt_inputs import manifest_sha256, project_changed, remember
from orchestration.lib.dbt_project import DBT_PROJECT_DIR, dbt_environment, dbt_executable


def parse(project_dir, target) -> dict:
    subprocess.run([dbt_executable(), "parse", "--quiet", "--no-partial-parse", "--project-dir", str(project_dir),
                    "--profiles-dir", str(project_dir), "--target-path", str(target)],
                   cwd=project_dir, env={**__import__("os").environ, **dbt_environment()}, check=True,
                   capture_output=True, text=True, timeout=300)
    return json.loads((target / "manifest.json").read_text())


@pytest.mark.timeout(600)
def test_a_parse_alone_keeps_the_fingerprint_and_an_edited_model_changes_it(tmp_path):
    project = tmp_path / "dbt_project"
    shutil.copytree(DBT_PROJECT_DIR, project, ignore=shutil.ignore_patterns("target", "logs", "dbt_packages"))
    first, second = parse(project, tmp_path / "a"), parse(project, tmp_path / "b")
    assert (tmp_path / "a" / "manifest.json").read_bytes() != (tmp_path / "b" / "manifest.json").read_bytes()  # what
    # hashing the file did: every parse looked like a change
    assert first["metadata"]["invocation_id"] != second["metadata"]["invocation_id"]
    assert manifest_sha256(first) == manifest_sha256(second)
    assert "metadata" in first  # the fingerprint reads the manifest, it does not change it

    model = next((project / "models").rglob("fct_service_requests.sql"))
    model.write_text(model.read_text() + "\n-- an edit\n")
    assert manifest_sha256(parse(project, tmp_path / "c")) != manifest_sha256(first)


@pytest.mark.timeout(60)
def test_a_run_tells_a_changed_project_from_new_batches(tmp_path, monkeypatch):
    """`project_changed` (the run's warning that incremental models keep rows their previous SQL built) compares the
    project against the last successful build's record, never the landing: new batches alone are no change."""
    monkeypatch.delenv("CITYSTAT_WAREHOUSE_POSTGRES_URL", raising=False)
    monkeypatch.setenv("CITYSTAT_WORK_DB", str(tmp_path / "work.duckdb"))
    (tmp_path / "work.duckdb").write_bytes(b"")  # the record counts only beside an existing work database
    built = {"ledger_sha256": "l1", "ledger_lines": 3, "manifest_sha256": "m1", "project_sha256": "p1",
             "args": "[\"build\"]", "vars": {}}
    assert not project_changed(built)  # no successful build recorded: nothing to compare with
    remember(built)
    assert not project_changed(built)
    assert not project_changed({**built, "ledger_sha256": "l2", "ledger_lines": 4, "vars": {"as_of": "2026-11-01"}})
    assert project_changed({**built, "manifest_sha256": "m2"})  # a model, macro, test or source edited
    assert project_changed({**built, "project_sha256": "p2"})  # dbt_project.yml edited
