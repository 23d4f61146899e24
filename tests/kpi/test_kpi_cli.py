"""`citystat kpi ...` and `citystat flags ...`, through the real entry point's Typer app."""
import subprocess
import sys
from pathlib import Path

import duckdb
import pandas as pd
import pytest
from typer.testing import CliRunner

from citystat.cli import app
from citystat.kpi import flags

from kpi_helpers import monthly, run_engine

SAMPLE = Path(__file__).parent / "sample_series.csv"
runner = CliRunner()


def test_kpi_status_on_the_sample_csv(tmp_path):
    out = tmp_path / "status.csv"
    result = runner.invoke(app, ["kpi", "status", str(SAMPLE), "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "13 rows (5 green, 4 yellow, 3 red, 1 gray), 5 flagged changes" in result.output
    table = pd.read_csv(out).set_index(["kpi_id", "period"])
    assert table.loc[("pw_on_time_pct", "2025-07"), "status"] == "red"        # registry target 90
    assert table.loc[("pw_on_time_pct", "2025-11"), "status"] == "green"
    assert table.loc[("pw_on_time_pct", "2025-11"), "previous_period"] == "2025-09"
    assert table.loc[("pw_on_time_pct", "2025-11"), "gap_periods"] == 1
    assert table.loc[("fire_turnout_p90_sec", "2025-09"), "status"] == "gray"  # no value
    assert bool(table.loc[("fire_turnout_p90_sec", "2025-08"), "pop_flag"])    # registry threshold 5%
    assert table.loc[("parks_trail_miles_open", "FY2026"), "trend_vs_last_year"] == "improving"  # not in the registry
    assert table.loc[("parks_trail_miles_open", "FY2025"), "target"] == 42


def test_kpi_status_prints_a_table_and_a_targets_file_fills_targets(tmp_path):
    targets = tmp_path / "targets.csv"
    targets.write_text("kpi_id,fiscal_year,target\npw_on_time_pct,2026,70\n")
    result = runner.invoke(app, ["kpi", "status", str(SAMPLE), "--targets", str(targets)], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    assert "13 rows (8 green, 3 yellow, 1 red, 1 gray)" in result.output  # PW now beats a 70% target every month


def test_kpi_status_bad_row_is_a_clear_error(tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text("kpi_id,period,value\npw_on_time_pct,2025-07,71.5\npw_on_time_pct,July 2025,80\n")
    result = runner.invoke(app, ["kpi", "status", str(bad)])
    assert result.exit_code == 1
    assert f"{bad} line 3: period: 'July 2025' is not a period" in result.output
    assert "Traceback" not in result.output


def test_kpi_list(tmp_path):
    result = runner.invoke(app, ["kpi", "list", "--department", "fire"], env={"COLUMNS": "200"})
    assert result.exit_code == 0 and "fire_turnout_p90_sec" in result.output and "pw_on_time_pct" not in result.output
    out = tmp_path / "registry.csv"
    assert runner.invoke(app, ["kpi", "list", "--out", str(out)]).exit_code == 0
    registry = pd.read_csv(out)
    assert len(registry) >= 30 and "FY2026" in registry.columns


def test_entry_point_runs_as_a_process():
    result = subprocess.run([sys.executable, "-m", "citystat.cli", "kpi", "status", str(SAMPLE)],
                            capture_output=True, text=True, env={"COLUMNS": "200", "PATH": "/usr/bin:/bin"}, timeout=120)
    assert result.returncode == 0, result.stderr
    assert "pw_on_time_pct" in result.stdout


@pytest.fixture
def warehouse(tmp_path):
    db = tmp_path / "warehouse" / "work.duckdb"
    db.parent.mkdir()
    with duckdb.connect(str(db)) as con:
        # k turns red in February (the -15% move is part of its red flag); w worsens -15.4% but stays green
        flags.sync_flags(con, run_engine(monthly("k", "2025-01", [100.0, 85.0], target=100.0, desired_direction="up")
                                         + monthly("w", "2025-01", [130.0, 110.0], target=100.0, desired_direction="up")))
    return db


def test_flags_commands(warehouse, tmp_path):
    db = ["--db", str(warehouse)]
    listed = runner.invoke(app, ["flags", "list", *db], env={"COLUMNS": "250"})
    assert listed.exit_code == 0 and "k:2025-02:red" in listed.output and "w:2025-02:worsened" in listed.output
    assert "days open" in listed.output
    acked = runner.invoke(app, ["flags", "ack", "k:2025-02:red", "--by", "analyst", "-m", "called the director", *db])
    assert acked.exit_code == 0 and "k:2025-02:red: acknowledged by analyst" in acked.output
    escalated = runner.invoke(app, ["flags", "escalate", "w:2025-02:worsened", "--by", "analyst", *db])
    assert escalated.exit_code == 0
    history = runner.invoke(app, ["flags", "history", "k:2025-02:red", *db])
    assert history.exit_code == 0 and "acknowledged" in history.output and "called the director" in history.output
    resolved = runner.invoke(app, ["flags", "resolve", "k:2025-02:red", "--by", "analyst", "-m", "fixed", *db])
    assert resolved.exit_code == 0
    still = runner.invoke(app, ["flags", "list", *db], env={"COLUMNS": "250"})
    assert "k:2025-02:red" not in still.output and "escalated" in still.output
    assert "k:2025-02:red" in runner.invoke(app, ["flags", "list", "--all", *db], env={"COLUMNS": "250"}).output

    exported = tmp_path / "actions.csv"
    result = runner.invoke(app, ["flags", "export", str(exported), *db])
    assert result.exit_code == 0 and "5 action(s)" in result.output
    with exported.open("a") as handle:
        handle.write("w:2025-02:worsened,,,,2026-11-20 10:00,Deputy Mayor,,resolved,\n")
    result = runner.invoke(app, ["flags", "import", str(exported), *db])
    assert result.exit_code == 1
    assert f"{exported} line 7: action: is required" in result.output


def test_flags_unknown_flag_and_missing_warehouse(warehouse, tmp_path, monkeypatch):
    result = runner.invoke(app, ["flags", "ack", "nope:2025-01:red", "--db", str(warehouse)])
    assert result.exit_code == 1 and "no flag 'nope:2025-01:red'" in result.output
    monkeypatch.setenv("CITYSTAT_WAREHOUSE_DIR", str(tmp_path / "elsewhere"))
    result = runner.invoke(app, ["flags", "list"])
    assert result.exit_code == 1 and f"{tmp_path / 'elsewhere' / 'work.duckdb'}: no warehouse here" in result.output
    monkeypatch.setenv("CITYSTAT_WAREHOUSE_DIR", str(warehouse.parent))
    result = runner.invoke(app, ["flags", "list"], env={"COLUMNS": "250"})
    assert result.exit_code == 0 and "k:2025-02:red" in result.output
