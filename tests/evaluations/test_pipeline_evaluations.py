"""One real run: `citystat run --select +metrics/evaluation_results` on a tiny clean demo city (ingestion, dbt and the
evaluations asset through Dagster) writes the evaluation tables into the working warehouse, and the estimates
agree with the demo city's planted truth."""
from __future__ import annotations

import json

import duckdb
import pytest

from pipeline_helpers import citystat, small_city


@pytest.mark.slow
@pytest.mark.timeout(1500)
def test_citystat_run_builds_the_evaluations_against_the_planted_truth(tmp_path):
    env = small_city(tmp_path, clean=True, scale="0.05")
    truth = {e["evaluation_id"]: e for e in json.loads((tmp_path / "city" / "evaluations.json").read_text())["evaluations"]}
    citystat(env, "run", "--select", "+metrics/evaluation_results", "--no-dashboards")
    with duckdb.connect(str(tmp_path / "warehouse" / "work.duckdb"), read_only=True) as con:
        rows = con.execute("select evaluation_id, outcome, status, ci_low, ci_high, balanced, label, result "
                           "from metrics.evaluation_results where is_primary order by evaluation_id").fetchall()
        units = con.execute("select evaluation_id, unit_id from metrics.evaluation_assignments where arm = 'treatment'").fetchall()
        balance = con.execute("select count(*), count(*) filter (where balanced) from metrics.evaluation_balance").fetchall()
    (pothole, streetlight) = rows
    assert pothole[:3] == ("pothole_triage", "days_to_close", "reported") and pothole[6] == "pre-registered primary"
    assert pothole[3] <= truth["pothole_triage"]["true_effect_days_capped"] <= pothole[4] < 0
    assert streetlight[:3] == ("streetlight_form", "days_to_close", "reported") and streetlight[3] < 0 < streetlight[4]
    assert pothole[5] and streetlight[5]
    for evaluation_id in truth:
        assert sorted(u for e, u in units if e == evaluation_id) == sorted(truth[evaluation_id]["treated_units"])
    assert balance == [(4, 4)]
