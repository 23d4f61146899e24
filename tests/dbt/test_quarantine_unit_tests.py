"""The dbt unit tests of the quarantine rule macros catch the mutants that used to pass the whole suite:
closed-before-opened as `<=` instead of `<`, a range bound as `<=`, allowed values compared without lower().
Each mutant runs on a copy of the dbt project (the shared checkout is never edited); the unit tests' copy of the
inventory's fields stays equal to the generated source definition."""
from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from citystat.settings import dbt_executable

ROOT = Path(__file__).resolve().parents[2]
UNIT_TESTS = ROOT / "dbt_project" / "models" / "staging" / "pw_mms" / "_pw_mms__quarantine_rule_unit_tests.yml"
SOURCES = ROOT / "dbt_project" / "models" / "staging" / "pw_mms" / "_pw_mms__sources.yml"
MUTANTS = {
    "closed_before_opened_le": ("macros/quarantine.sql", "'when': later ~ ' < ' ~ earlier,", "'when': later ~ ' <= ' ~ earlier,", "WO-1"),
    "minimum_le": ("macros/quarantine.sql", "conditions.append(column ~ ' < ' ~ sql_number(minimum))",
                   "conditions.append(column ~ ' <= ' ~ sql_number(minimum))", "WO-4"),
    "maximum_ge": ("macros/quarantine.sql", "conditions.append(column ~ ' > ' ~ sql_number(maximum))",
                   "conditions.append(column ~ ' >= ' ~ sql_number(maximum))", "WO-5"),
    "case_sensitive_codes": ("macros/quarantine.sql", "' is not null and lower(' ~ raw_text(raw) ~ ') not in ('",
                             "' is not null and (' ~ raw_text(raw) ~ ') not in ('", "WO-8"),
}


@pytest.mark.timeout(60)
def test_the_unit_tests_copy_of_the_inventory_fields_matches_the_generated_source():
    tests = yaml.safe_load(UNIT_TESTS.read_text(encoding="utf-8"))["unit_tests"]
    copied = next(t for t in tests if t["model"] == "base_pw_mms__work_orders")["overrides"]["vars"]["unit_test_inventory_fields"]
    table = next(t for t in yaml.safe_load(SOURCES.read_text(encoding="utf-8"))["sources"][0]["tables"] if t["name"] == "work_orders")
    assert copied["pw_mms.work_orders"] == {c["name"]: c["meta"] for c in table["columns"] if "type" in c.get("meta", {})}


def _unit_tests(project: Path, tmp: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "CITYSTAT_WORK_DB": str(tmp / "work.duckdb"), "CITYSTAT_LANDING_DIR": str(tmp / "landing"),
           "DBT_SEND_ANONYMOUS_USAGE_STATS": "false"}
    return subprocess.run([dbt_executable(), "test", "--select", "test_type:unit,base_pw_mms__work_orders",
                           "test_type:unit,quarantine_pw_mms__work_orders", "--profiles-dir", ".",
                           "--target-path", str(tmp / "target"), "--log-path", str(tmp / "logs")],
                          cwd=project, env=env, capture_output=True, text=True, timeout=900)


@pytest.mark.slow
@pytest.mark.timeout(1200)
def test_every_mutant_of_the_rule_macros_fails_a_unit_test(tmp_path):
    project = tmp_path / "dbt_project"
    shutil.copytree(ROOT / "dbt_project", project, ignore=shutil.ignore_patterns("target", "logs", "dbt_packages"))
    macros = project / "macros" / "quarantine.sql"
    original = macros.read_text(encoding="utf-8")
    good = _unit_tests(project, tmp_path / "good")
    assert good.returncode == 0, good.stdout[-3000:]
    mutated = original
    for name, (_, before, after, _) in MUTANTS.items():
        assert mutated.count(before) == 1, f"mutant {name}: {before!r} not found once"
        mutated = mutated.replace(before, after)
    macros.write_text(mutated, encoding="utf-8")  # every mutant at once: one dbt run, each must show in the diff
    bad = _unit_tests(project, tmp_path / "bad")
    assert bad.returncode != 0
    plain = re.sub(r"\x1b\[[0-9;]*m", "", bad.stdout)
    changed = {re.split(r"\s*,\s*", line)[1].strip()
               for line in plain.splitlines() if "→" in line and "WO-" in line}
    for name, (*_, row) in MUTANTS.items():
        assert row in changed, f"mutant {name} did not change {row} (changed: {sorted(changed)}):\n{plain[-4000:]}"
