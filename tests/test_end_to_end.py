"""End to end: a small demo city served on loopback -> `citystat run` (real Dagster, dbt, DuckDB) -> snapshot.

Runs the real command-line tool in a subprocess, as a data engineer would, on tmp paths. Every run's exit
code is asserted, reruns included: the demo city's planted defects fail ERROR checks (exit 1, no failed
step); a run that crashed or had a failed step must never pass as "the expected defects".
"""
import json
import re
from pathlib import Path

import duckdb
import pytest

from pipeline_helpers import citystat as _citystat
from data_inventory import load_inventory

pytestmark = [pytest.mark.slow, pytest.mark.timeout(2400)]

# ERROR checks the demo city's planted defects fail (see demo_city/systems): exit 1, every step succeeds
DEFECTS_EXIT = 1


def assert_run(result, expected: int = DEFECTS_EXIT) -> dict:
    """``citystat run`` exited ``expected``, its summary line was printed and no step failed (a failed step
    or a crash also exits 1: only failed ERROR checks of the planted defects may make it non-zero)."""
    out = result.stdout + result.stderr
    flat = " ".join(out.split())
    assert result.returncode == expected, f"exited {result.returncode}, expected {expected}\n{out[-4000:]}"
    summary = re.search(r"(\d+)/(\d+) assets materialized, (\d+) failed steps, (\d+) failed ERROR checks", flat)
    assert summary, f"no run summary printed (a crash?)\n{out[-4000:]}"
    materialized, total, failed_steps, failed_errors = map(int, summary.groups())
    assert failed_steps == 0 and "Traceback" not in out, out[-4000:]
    assert (failed_errors > 0) == (expected == 1), out[-4000:]
    return {"materialized": materialized, "total": total, "failed_errors": failed_errors}


def _tables(snapshot: Path) -> dict[str, int]:
    con = duckdb.connect(str(snapshot), read_only=True)
    try:
        names = con.execute("SELECT schema_name, table_name FROM duckdb_tables() ORDER BY 1, 2").fetchall()
        return {f"{s}.{t}": con.execute(f'SELECT count(*) FROM "{s}"."{t}"').fetchone()[0] for s, t in names}
    finally:
        con.close()


def _mart_digest(snapshot: Path) -> dict[str, str]:
    """An order-independent digest of every mart table (equal digests = identical contents)."""
    con = duckdb.connect(str(snapshot), read_only=True)
    try:
        names = [t for (t,) in con.execute("SELECT table_name FROM duckdb_tables() WHERE schema_name='marts'").fetchall()]
        return {t: con.execute(f'SELECT count(*), sum(hash(r)) FROM (SELECT * FROM marts."{t}") r').fetchone() for t in names}
    finally:
        con.close()


def test_run_populates_every_mart(pipeline):
    tmp, env, first = pipeline.tmp, pipeline.env, pipeline.first_run
    snapshot = tmp / "warehouse" / "citystat.duckdb"
    assert snapshot.exists(), first.stdout[-3000:] + first.stderr[-3000:]
    tables = _tables(snapshot)
    marts = {name: rows for name, rows in tables.items() if name.startswith("marts.")}
    assert len(marts) >= 15, sorted(tables)
    empty = [name for name, rows in marts.items() if rows == 0]
    assert not empty, f"empty marts: {empty}"
    for schema in ("marts", "inventory", "quality"):
        assert any(name.startswith(schema + ".") for name in tables), f"no {schema} tables in the snapshot"
    # the demo city's planted schema drift is the one expected ingestion failure, named with its file
    assert_run(first)
    assert "vacant_cases_" in "".join((first.stdout + first.stderr).split())  # the console wraps long paths


def test_no_pii_column_reaches_the_snapshot(pipeline):
    tmp = pipeline.tmp
    pii = {f.name for ref in load_inventory().datasets() for f in ref.dataset.fields if f.sensitivity == "pii"}
    con = duckdb.connect(str(tmp / "warehouse" / "citystat.duckdb"), read_only=True)
    columns = con.execute("SELECT schema_name, table_name, column_name FROM duckdb_columns()").fetchall()
    con.close()
    leaked = [f"{s}.{t}.{c}" for s, t, c in columns if c in pii]
    assert pii and not leaked, leaked


def test_rerun_changes_nothing(pipeline):
    tmp, env = pipeline.tmp, pipeline.env
    snapshot = tmp / "warehouse" / "citystat.duckdb"
    before = _mart_digest(snapshot)
    ledger_before = (tmp / "warehouse" / "landing" / "_loads.jsonl").read_text()
    again = _citystat(env, "run", "--no-dashboards", check=False)  # the dashboards tests build the site once
    assert_run(again)  # the planted drift is still in its folder: the same ERROR check, nothing crashed
    assert _mart_digest(snapshot) == before
    # nothing new at the sources: no new batch landed
    new_lines = (tmp / "warehouse" / "landing" / "_loads.jsonl").read_text()[len(ledger_before):]
    assert [json.loads(line)["dataset"] for line in new_lines.splitlines() if json.loads(line)["rows"]] == []
