"""The evaluation analysis against the demo city's planted truth (a tiny city, its 311 mart built in the test), and
on hand-built tables whose answers are computed by hand."""
from __future__ import annotations

import dataclasses
import datetime as dt

import duckdb
import pandas as pd
import pytest

from citystat.evaluations.analysis import analyse, pre_period
from citystat.evaluations.memo import memo_sections
from citystat.evaluations.registry import parse
from citystat.evaluations.tables import write_evaluation_tables
from eval_helpers import AS_OF

Z_80_POWER = 1.959964 + 0.841621  # z(0.975) + z(0.8)


@pytest.mark.timeout(300)
def test_planted_rollout_ci_covers_the_true_effect_and_excludes_zero(warehouse, registry, truth):
    planted = truth["pothole_triage"]
    assert planted["planted"] and planted["true_effect_days"] < -0.5  # about -0.6 days at scale 0.05
    out = analyse(warehouse, registry["pothole_triage"], AS_OF)
    primary = out.results[out.results["is_primary"]].iloc[0]
    assert primary["status"] == "reported" and primary["label"] == "pre-registered primary"
    assert primary["ci_low"] <= planted["true_effect_days_capped"] <= primary["ci_high"]
    assert primary["ci_high"] < 0  # excludes zero: the triage closes requests sooner
    assert primary["significant"] and primary["balanced"]
    assert primary["n_treated"] + primary["n_control"] >= 90  # pothole requests of the 24 weeks at scale 0.05
    assert primary["mde"] == pytest.approx(Z_80_POWER * primary["std_error"], rel=1e-5)
    assert primary["result"].startswith("New pothole triage process lowered days to close a pothole request by ")
    assert primary["result"].endswith("an improvement; this is the pre-registered primary outcome.")
    labels = dict(zip(out.results["outcome"], out.results["label"]))
    assert labels == {"days_to_close": "pre-registered primary", "closed_on_time": "pre-registered secondary",
                      "repeat_within_30d": "exploratory"}
    exploratory = out.results.set_index("outcome").loc["repeat_within_30d", "result"]
    assert "EXPLORATORY (not pre-registered)" in exploratory


@pytest.mark.timeout(300)
def test_null_rollout_ci_includes_zero(warehouse, registry, truth):
    assert truth["streetlight_form"]["true_effect_days"] == 0.0
    out = analyse(warehouse, registry["streetlight_form"], AS_OF)
    primary = out.results.iloc[0]
    assert primary["ci_low"] < 0 < primary["ci_high"]
    assert not primary["significant"]
    assert primary["result"].startswith("No detectable effect of redesigned streetlight report form on days to close")
    assert f"could detect a change of {primary['mde']:.2f} days or more" in primary["result"]


@pytest.mark.timeout(300)
def test_a_broken_randomization_is_flagged(warehouse, registry):
    """Treat the district-weeks whose pre-period twin was slowest (what a manager "randomizing" by hand might do):
    the balance check on the pre-period flags it and the result warns not to trust the estimate."""
    evaluation = registry["pothole_triage"]
    first, last = pre_period(evaluation)
    pre = warehouse.execute("""
        select zipcode || ':' || cast(floor(datediff('day', ?::date, requested_at::date) / 7) as int) as unit_id,
               avg(least(days_to_close, 30)) as mean_days
        from marts.fct_service_requests
        where service_code = 'POTHOLE' and requested_at::date between ? and ? and days_to_close is not null
        group by 1 order by mean_days desc, unit_id""", [first, first, last]).df()
    slowest = list(pre["unit_id"].head(len(pre) // 2))
    broken = dataclasses.replace(evaluation, assignment=dataclasses.replace(evaluation.assignment, treated=tuple(slowest)))
    out = analyse(warehouse, broken, AS_OF)
    balance = out.balance.set_index("outcome").loc["days_to_close"]
    assert not balance["balanced"] and balance["p_value"] < 0.05 and balance["difference"] > 0
    assert balance["note"].startswith("IMBALANCED: the arms differed before the start")
    primary = out.results[out.results["is_primary"]].iloc[0]
    assert primary["balanced"] is False or primary["balanced"] == False  # noqa: E712
    assert primary["result"].startswith("WARNING: the pre-period is not balanced between the arms")
    # the real randomization passes the same check
    assert analyse(warehouse, evaluation, AS_OF).balance["balanced"].all()


@pytest.mark.timeout(120)
def test_before_the_report_date_nothing_is_estimated(warehouse, registry):
    out = analyse(warehouse, registry["pothole_triage"], dt.date(2026, 5, 1))
    assert set(out.results["status"]) == {"in progress"} and out.results.get("effect") is None
    assert out.balance.empty
    write_evaluation_tables(warehouse, list(registry.values()), as_of=dt.date(2026, 5, 1))
    assert memo_sections(warehouse) == []  # no evaluation reported: no memo section


@pytest.mark.timeout(120)
def test_tables_and_memo_section_when_reported(warehouse, registry):
    tables = write_evaluation_tables(warehouse, list(registry.values()), as_of=AS_OF)
    assert len(tables["metrics.evaluation_results"]) == 4 and len(tables["metrics.evaluation_assignments"]) == 5 * 24 + 5 * 16
    stored = warehouse.execute("select evaluation_id, outcome, status from metrics.evaluation_results order by all").fetchall()
    assert stored[0] == ("pothole_triage", "closed_on_time", "reported")
    comment = warehouse.execute("select comment from duckdb_tables() where table_name = 'evaluation_results'").fetchone()[0]
    assert comment.startswith("Low-cost evaluations")
    undocumented = warehouse.execute(
        "select table_name, column_name from duckdb_columns() where schema_name = 'metrics' and table_name in "
        "('evaluation_results', 'evaluation_balance', 'evaluation_assignments') and coalesce(comment, '') = ''").fetchall()
    assert undocumented == []
    (section,) = memo_sections(warehouse)
    assert section.startswith("## Evaluations\n")
    assert "**New pothole triage process** (pothole_triage; service district (ZIP code) x week, randomized;" in section
    assert "- *pre-registered primary*: New pothole triage process lowered days to close" in section
    assert "- *exploratory*: No detectable effect" in section or "- *exploratory*: New pothole" in section


# ---- hand-built tables, hand-computed answers --------------------------------------------------------------------

HAND_REGISTRY = {"evaluations": [{
    "evaluation_id": "form_test", "title": "Plain-language notice", "question": "Does the notice speed compliance?",
    "owner": "Code enforcement", "registered_on": "2026-01-01", "start": "2026-02-02", "end": "2026-02-15",
    "assignment": {"method": "randomized", "unit": "inspector x week", "unit_column": "inspector",
                   "units": ["a", "b", "c", "d"], "period": "week", "treated": ["a:0", "b:0", "c:1", "d:1"]},
    "outcomes": [{"name": "days", "dataset": "marts.cases", "column": "days", "date_column": "opened_on",
                  "desired_direction": "down", "primary": True, "pre_registered": True, "unit": "days"}],
}]}


def _cases(con, rows):
    con.execute("create schema if not exists marts")
    frame = pd.DataFrame(rows, columns=["inspector", "opened_on", "days"])
    frame["opened_on"] = pd.to_datetime(frame["opened_on"])
    con.register("cases_frame", frame)
    con.execute("create or replace table marts.cases as select * from cases_frame")


@pytest.mark.timeout(120)
def test_difference_in_means_by_hand(tmp_path):
    con = duckdb.connect(str(tmp_path / "hand.duckdb"))
    # trial weeks: week 0 = Feb 2-8, week 1 = Feb 9-15; treated units a:0, b:0, c:1, d:1
    trial = [("a", "2026-02-03", 2.0), ("a", "2026-02-04", 4.0), ("b", "2026-02-05", 3.0),   # treated
             ("c", "2026-02-10", 1.0), ("d", "2026-02-12", 5.0), ("d", "2026-02-13", 3.0),   # treated
             ("a", "2026-02-10", 8.0), ("b", "2026-02-11", 6.0), ("c", "2026-02-03", 7.0),   # control
             ("d", "2026-02-04", 9.0), ("d", "2026-02-06", 5.0)]                             # control
    # pre-period (Jan 19 - Feb 1): the same units' twins; balanced on purpose (means 5 and 5)
    pre = [("a", "2026-01-20", 5.0), ("b", "2026-01-21", 5.0), ("c", "2026-01-27", 5.0), ("d", "2026-01-28", 5.0),
           ("a", "2026-01-27", 4.0), ("b", "2026-01-28", 6.0), ("c", "2026-01-20", 6.0), ("d", "2026-01-21", 4.0)]
    _cases(con, trial + pre + [("a", "2026-02-16", 100.0), ("e", "2026-02-03", 100.0)])  # after the end; not a unit
    (evaluation,) = parse(HAND_REGISTRY)
    out = analyse(con, evaluation, dt.date(2026, 3, 1))
    r = out.results.iloc[0]
    # treated: 2, 4, 3, 1, 5, 3 -> mean 3; control: 8, 6, 7, 9, 5 -> mean 7; effect -4
    assert (r["n_treated"], r["n_control"], r["clusters"]) == (6, 5, 8)
    assert (r["mean_treated"], r["mean_control"]) == pytest.approx((3.0, 7.0))
    assert r["effect"] == pytest.approx(-4.0)
    assert r["ci_low"] < -4.0 < r["ci_high"] < 0
    assert r["ci_high"] - r["effect"] == pytest.approx(r["effect"] - r["ci_low"])  # symmetric around the estimate
    assert r["mde"] == pytest.approx(Z_80_POWER * r["std_error"], rel=1e-5)
    assert r["result"].startswith("Plain-language notice lowered days by 4.00 days (95% CI")
    b = out.balance.iloc[0]
    # pre-period twins of the treated units: a:0 (5), b:0 (5), c:1 (5), d:1 (5) -> 5; control: a:1 4, b:1 6, c:0 6, d:0 4 -> 5
    assert (b["mean_treated"], b["mean_control"], b["difference"]) == pytest.approx((5.0, 5.0, 0.0))
    assert bool(b["balanced"])


@pytest.mark.timeout(120)
def test_an_imbalanced_pre_period_is_flagged_by_hand(tmp_path):
    con = duckdb.connect(str(tmp_path / "hand.duckdb"))
    trial = [(u, d, 3.0 + i % 2) for i, (u, d) in enumerate(
        [("a", "2026-02-03"), ("b", "2026-02-05"), ("c", "2026-02-10"), ("d", "2026-02-12"),
         ("a", "2026-02-10"), ("b", "2026-02-11"), ("c", "2026-02-03"), ("d", "2026-02-04")])]
    # the treated units' twins (a:0, b:0, c:1, d:1) were slower before the start: 12, 12.5, 13, 13.5 (mean 12.75)
    # against 4, 4.5, 5, 5.5 (mean 4.75)
    pre = [(u, d, v + j * 0.5) for j, (u, d, v) in enumerate(
        [("a", "2026-01-20", 12.0), ("b", "2026-01-21", 12.0), ("c", "2026-01-27", 12.0), ("d", "2026-01-28", 12.0),
         ("a", "2026-01-27", 2.0), ("b", "2026-01-28", 2.0), ("c", "2026-01-20", 2.0), ("d", "2026-01-21", 2.0)])]
    _cases(con, trial + pre)
    (evaluation,) = parse(HAND_REGISTRY)
    out = analyse(con, evaluation, dt.date(2026, 3, 1))
    b = out.balance.iloc[0]
    assert (b["mean_treated"], b["mean_control"], b["difference"]) == pytest.approx((12.75, 4.75, 8.0))
    assert not b["balanced"] and b["p_value"] < 0.05
    assert out.results.iloc[0]["result"].startswith("WARNING: the pre-period is not balanced")


@pytest.mark.timeout(120)
def test_a_phased_rollout_uses_period_fixed_effects(tmp_path):
    """Stepped wedge: inspector a starts week 0, b week 1, c and d never. Days = 5 + 2 x week - 3 x treated, +-0.5
    in pairs, so OLS with period fixed effects gives exactly -3 (a plain difference in means would not: the
    treated records lean to week 1, which is 2 days slower)."""
    registry = {"evaluations": [{**HAND_REGISTRY["evaluations"][0], "assignment": {
        "method": "phased", "unit": "inspector", "unit_column": "inspector", "units": ["a", "b", "c", "d"],
        "period": "week", "phases": {"a": "2026-02-02", "b": "2026-02-09"}}}]}
    (evaluation,) = parse(registry)
    phase = {"a": 0, "b": 1}
    rows = []
    for unit in "abcd":
        for week, day in ((0, "2026-02-03"), (1, "2026-02-10")):
            treated = unit in phase and week >= phase[unit]
            for noise in (-0.5, 0.5):
                rows.append((unit, day, 5 + 2 * week - 3 * treated + noise))
    con = duckdb.connect(str(tmp_path / "hand.duckdb"))
    _cases(con, rows)
    out = analyse(con, evaluation, dt.date(2026, 3, 1))
    r = out.results.iloc[0]
    assert (r["n_treated"], r["n_control"]) == (6, 10)  # a: 2 weeks, b: week 1 -> 3 cells x 2 records
    assert r["effect"] == pytest.approx(-3.0)
    assert r["method"] == "OLS, cluster-robust SE by unit with period fixed effects"
    assert out.balance.empty and r["units_treated"] is None


@pytest.mark.timeout(120)
def test_registry_values_reach_the_outcome_query_as_parameters(tmp_path):
    """Units and `where` values from the registry reach the query as bound parameters: quotes, colons and SQL in them
    are text."""
    from citystat.evaluations.analysis import outcome_records

    con = duckdb.connect(str(tmp_path / "hand.duckdb"))
    hostile_unit, hostile_kind = "o'brien: x", "it's :kind'; drop table marts.cases; --"
    rows = [(hostile_unit, "2026-02-03", 2.0, hostile_kind), (hostile_unit, "2026-02-04", 4.0, "other"),
            ("b", "2026-02-05", 3.0, hostile_kind), ("c", "2026-02-06", 9.0, hostile_kind)]
    con.execute("create schema marts")
    frame = pd.DataFrame(rows, columns=["inspector", "opened_on", "days", "kind"])
    frame["opened_on"] = pd.to_datetime(frame["opened_on"])
    con.register("cases_frame", frame)
    con.execute("create table marts.cases as select * from cases_frame")
    (evaluation,) = parse(HAND_REGISTRY)
    evaluation = dataclasses.replace(evaluation, assignment=dataclasses.replace(evaluation.assignment, units=(hostile_unit, "b")))
    outcome = dataclasses.replace(evaluation.outcomes[0], where={"kind": hostile_kind})
    got = outcome_records(con, evaluation, outcome, dt.date(2026, 2, 1), dt.date(2026, 2, 28))
    # c is not a unit; the 'other' row fails the where
    assert sorted(got.itertuples(index=False, name=None)) == [("b", dt.date(2026, 2, 5), 3.0),
                                                              (hostile_unit, dt.date(2026, 2, 3), 2.0)]
    assert con.execute("select count(*) from marts.cases").fetchone()[0] == 4
