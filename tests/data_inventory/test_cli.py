"""`citystat inventory ...`: exit codes and what a person sees."""
from __future__ import annotations

import json
import subprocess
import sys

from typer.testing import CliRunner

from inventory_helpers import dataset
from data_inventory.cli import app

runner = CliRunner()


def test_validate_ok_prints_a_one_line_summary():
    result = runner.invoke(app, ["validate"])
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("OK ")
    assert "22 departments" in result.stdout and "datasets" in result.stdout
    assert len(result.stdout.strip().splitlines()) == 1


def test_validate_prints_each_problem_with_file_line_entry_field_and_exits_1(inventory_copy):
    def mutate(d):
        dataset(d, "pw_mms", "work_orders")["connector"] = "ftp"
        dataset(d, "pw_mms", "work_orders")["location"]["default"] = "postgresql://u:pw@db/mms"

    path = inventory_copy(mutate)
    result = runner.invoke(app, ["validate", str(path)])
    assert result.exit_code == 1
    lines = result.stdout.strip().splitlines()
    connector_line = next(line for line in lines if " connector: " in line)
    assert connector_line.startswith(f"{path}:")
    assert connector_line.split(": ", 1)[1].startswith("departments[pw].systems[pw_mms].datasets[work_orders] connector: 'ftp' is not one of")
    assert any("location.default: embeds credentials" in line for line in lines)
    assert "u:pw@" not in result.stdout
    assert lines[-1] == f"{path}: 2 problem(s)"


def test_list_shows_a_table_filtered_by_department():
    result = runner.invoke(app, ["list", "--department", "pw"])
    assert result.exit_code == 0, result.output
    for text in ("work_orders", "crews", "assets", "paving_reports", "sqlite", "xlsx_drop", "published"):
        assert text in result.stdout
    assert "service_requests" not in result.stdout
    assert "4 datasets" in result.stdout


def test_list_everything_and_unknown_department():
    result = runner.invoke(app, ["list"])
    assert result.exit_code == 0
    assert "use_of_force" in result.stdout and "service_requests" in result.stdout
    bad = runner.invoke(app, ["list", "--department", "xx"])
    assert bad.exit_code == 2
    assert "no department 'xx'" in bad.stderr


def test_commands_on_an_invalid_inventory_print_problems_and_exit_1(inventory_copy):
    path = inventory_copy(lambda d: dataset(d, "fire_cad", "stations").pop("owner"))
    result = runner.invoke(app, ["coverage", "--inventory", str(path)])
    assert result.exit_code == 1
    assert "departments[fire].systems[fire_cad].datasets[stations] owner: is required but missing" in result.stderr


def test_export_dcat_writes_data_json(tmp_path):
    out = tmp_path / "catalog" / "data.json"
    result = runner.invoke(app, ["export-dcat", "--out", str(out)])
    assert result.exit_code == 0, result.output
    catalog = json.loads(out.read_text())
    assert catalog["conformsTo"] == "https://project-open-data.cio.gov/v1.1/schema"
    assert f"{len(catalog['dataset'])} datasets" in result.stdout


def test_coverage_prints_departments_and_the_criterion():
    result = runner.invoke(app, ["coverage"])
    assert result.exit_code == 0, result.output
    assert "Police" in result.stdout and "Fleet Services" in result.stdout
    assert "22/22 departments" in result.stdout
    assert "What Works Cities data inventory criterion:" in result.stdout


def test_mounted_under_the_citystat_command(inventory_copy):
    """The real entry point (`citystat inventory validate`) in a fresh interpreter."""
    path = inventory_copy(lambda d: dataset(d, "pw_mms", "work_orders").update({"cadence": "sometimes"}))
    broken = subprocess.run([sys.executable, "-m", "citystat.cli", "inventory", "validate", str(path)], capture_output=True, text=True, timeout=120)
    assert broken.returncode == 1, broken.stderr
    assert "datasets[work_orders] cadence: 'sometimes' is not one of" in broken.stdout
    ok = subprocess.run([sys.executable, "-m", "citystat.cli", "inventory", "validate"], capture_output=True, text=True, timeout=120)
    assert ok.returncode == 0, ok.stderr
    assert ok.stdout.startswith("OK ")
