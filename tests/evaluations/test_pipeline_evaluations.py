"""The real pipeline (the session's shared `pipeline` fixture: `citystat run` on a scale-0.1 demo city) builds the
evaluation tables and the self-assessment into the published snapshot, the estimates agree with the demo city's
planted truth, and the memo carries the Evaluations section.

(A partial run such as `citystat run --select "*metrics/evaluation_results"` on a fresh warehouse cannot pass:
dbt's relationship tests read models such a selection does not build, so the one full run is shared instead.)"""
from __future__ import annotations

import json

import duckdb
import pytest

pytestmark = [pytest.mark.slow, pytest.mark.timeout(2400)]


def test_the_pipeline_publishes_evaluations_against_the_planted_truth(pipeline):
    truth = {e["evaluation_id"]: e for e in json.loads((pipeline.tmp / "city" / "evaluations.json").read_text())["evaluations"]}
    run_output = pipeline.first_run.stdout[-3000:] + pipeline.first_run.stderr[-3000:]
    with duckdb.connect(str(pipeline.snapshot), read_only=True) as con:
        rows = con.execute("select evaluation_id, outcome, status, ci_low, ci_high, balanced, label "
                           "from metrics.evaluation_results where is_primary order by evaluation_id").fetchall()
        units = con.execute("select evaluation_id, unit_id from metrics.evaluation_assignments where arm = 'treatment'").fetchall()
        balance = con.execute("select count(*), count(*) filter (where balanced) from metrics.evaluation_balance").fetchall()
        assessment = dict(con.execute("select criterion_id, status from metrics.wwc_self_assessment").fetchall())
    assert len(rows) == 2, run_output
    pothole, streetlight = rows
    assert pothole[:3] == ("pothole_triage", "days_to_close", "reported") and pothole[6] == "pre-registered primary"
    assert pothole[3] <= truth["pothole_triage"]["true_effect_days_capped"] <= pothole[4] < 0
    assert streetlight[:3] == ("streetlight_form", "days_to_close", "reported") and streetlight[3] < 0 < streetlight[4]
    assert pothole[5] and streetlight[5]
    for evaluation_id in truth:
        assert sorted(u for e, u in units if e == evaluation_id) == sorted(truth[evaluation_id]["treated_units"])
    assert balance == [(4, 4)]
    assert len(assessment) == 18
    assert (assessment["EV1"], assessment["EV2"], assessment["PA1"], assessment["DG1"]) == ("met", "met", "met", "met")
    assert {cid for cid, status in assessment.items() if status == "cannot judge"} == {"OD1", "OD4", "DG4", "EV3"}
    memo = (pipeline.tmp / "warehouse" / "memos" / "memo_2026-10.md").read_text()
    assert "## Evaluations" in memo and "New pothole triage process lowered days to close" in memo
