"""The What Works Cities self-assessment reads the system's own tables: built here by hand, so every call is known,
and it changes when its evidence changes (removing the goals register un-meets that criterion)."""
from __future__ import annotations

import pandas as pd
import pytest

from citystat.evaluations.self_assessment import CANNOT, assess, level, write_self_assessment
from citystat.evaluations.tables import write_evaluation_tables
from eval_helpers import AS_OF


def _table(con, qualified, frame: pd.DataFrame):
    schema = qualified.split(".")[0]
    con.execute(f"create schema if not exists {schema}")
    con.register("frame_", frame)
    con.execute(f"create or replace table {qualified} as select * from frame_")
    con.unregister("frame_")


def _evidence(con):
    """A city that keeps its inventory, goals, KPIs, contracts and budget review, with stat flags no one followed up."""
    _table(con, "inventory.criterion", pd.DataFrame({
        "part": ["documented update method", "updated in the last 12 months", "covers more than 80% of departments",
                 "published online"], "met": [True, True, False, True], "detail": ["", "", "", "catalog published"]}))
    _table(con, "inventory.datasets", pd.DataFrame({
        "owner": ["A", "B", "C", "D"], "steward": ["S", "S", "", "S"],
        "access_level": ["public", "public", "public", "non-public"],
        "publication_status": ["published", "planned", "published", "not planned"]}))
    _table(con, "quality.dataset_scores", pd.DataFrame({"dataset": ["x"], "score": [0.9]}))
    _table(con, "metrics.goal_progress", pd.DataFrame({"goal_id": ["G1", "G2"], "progress": [0.5, 0.2]}))
    _table(con, "metrics.kpi_status", pd.DataFrame({
        "kpi_id": ["k1", "k2", "k3", "k4", "k5", "k1"], "period": ["2026-10"] * 5 + ["2026-09"],
        "status": ["green", "red", "yellow", "green", "gray", "gray"]}))
    _table(con, "metrics.flags", pd.DataFrame({"flag_id": ["f1", "f2", "f3", "f4"]}))
    _table(con, "metrics.flag_actions", pd.DataFrame({"flag_id": ["f1", "f2"], "source": ["engine", "engine"]}))
    _table(con, "metrics.contract_grades", pd.DataFrame({"contract_id": ["c1", "c2", "c3"], "grade": ["A", "none", "B"]}))
    _table(con, "metrics.contract_payments", pd.DataFrame({"line_kind": ["benchmark", "penalty"]}))
    _table(con, "metrics.failing_programmes", pd.DataFrame({"entity_id": ["s1"]}))
    _table(con, "metrics.repurposing_candidates", pd.DataFrame({"alternative_site_id": ["s2", None]}))


def _status(table: pd.DataFrame) -> dict[str, str]:
    return dict(zip(table["criterion_id"], table["status"]))


@pytest.mark.timeout(300)
def test_self_assessment_from_hand_built_evidence(warehouse, registry):
    _evidence(warehouse)
    before = assess(warehouse)
    assert _status(before) == {
        "OD1": CANNOT, "OD2": "partly met", "OD3": "met", "OD4": CANNOT,
        "DG1": "met", "DG2": "partly met", "DG3": "met", "DG4": CANNOT,
        "PA1": "met", "PA2": "met", "PA3": "partly met",
        "EV1": "not met", "EV2": "not met", "EV3": CANNOT,
        "RC1": "partly met", "RC2": "met", "RP1": "met", "RP2": "partly met",
    }
    details = before.set_index("criterion_id")["detail"]
    assert details["OD2"] == "2/3 public datasets published on the open data portal (67%)"
    assert details["DG1"] == "3/4 parts met (not met: covers more than 80% of departments); 3 of 4 meets it"
    assert details["PA2"] == "4/5 KPIs with a value and a target in 2026-10 (80%)"
    assert details["PA3"] == "4 flag(s) raised for stat meetings; none has a follow-up action logged by staff"
    assert details["EV1"].startswith("metrics.evaluation_results is not in the warehouse")
    assert before.set_index("criterion_id").loc["PA1", "evidence"] == "metrics.goal_progress; dashboards: goals"
    assert (before.loc[before["status"] == CANNOT, "evidence"] == "none in the system").all()

    # evaluations run: both low-cost evaluation criteria become met
    write_evaluation_tables(warehouse, list(registry.values()), as_of=AS_OF)
    after = _status(assess(warehouse))
    assert (after["EV1"], after["EV2"]) == ("met", "met")

    # removing the goals register un-meets that criterion; an empty register does too
    warehouse.execute("drop table metrics.goal_progress")
    gone = assess(warehouse).set_index("criterion_id")
    assert gone.loc["PA1", "status"] == "not met"
    assert gone.loc["PA1", "detail"].startswith("metrics.goal_progress is not in the warehouse")
    _table(warehouse, "metrics.goal_progress", pd.DataFrame({"goal_id": pd.Series([], dtype=str),
                                                              "progress": pd.Series([], dtype=float)}))
    assert _status(assess(warehouse))["PA1"] == "not met"

    # staff follow up on three of four flags: the stat-meeting criterion is met
    _table(warehouse, "metrics.flag_actions", pd.DataFrame({"flag_id": ["f1", "f2", "f3"], "source": ["cli", "csv", "cli"]}))
    assert _status(assess(warehouse))["PA3"] == "met"


@pytest.mark.timeout(120)
def test_level_and_the_written_table(warehouse):
    _evidence(warehouse)
    table = write_self_assessment(warehouse)
    summary = level(table)
    # judged 14: met 7 (OD3 DG1 DG3 PA1 PA2 RC2 RP1), partly 5, not met 2 -> (7 + 2.5) / 14 = 0.679 -> gold
    assert (summary["judged"], summary["cannot_judge"], summary["met"], summary["partly_met"], summary["not_met"]) == (14, 4, 7, 5, 2)
    assert summary["share"] == pytest.approx(9.5 / 14, abs=1e-3) and summary["level"] == "gold"
    stored = warehouse.execute("select count(*), count(distinct criterion_id) from metrics.wwc_self_assessment").fetchone()
    assert stored == (18, 18)
    comment = warehouse.execute("select comment from duckdb_tables() where table_name = 'wwc_self_assessment'").fetchone()[0]
    assert "Indicative level: gold" in comment
