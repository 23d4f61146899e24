"""Performance office drops: monthly KPI submissions (with the planted swing) and the strategic goals register."""
from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd
import pytest
from systems_b_support import EMAIL, advance, digests, generate, make_ctx

from demo_city.systems import performance_office as perf

DROPS = ("drops", "performance_office")


@pytest.fixture(scope="module")
def office(tmp_path_factory):
    return generate(make_ctx(tmp_path_factory.mktemp("perf")), perf)


def submissions(ctx) -> pd.DataFrame:
    files = sorted((ctx.out / "drops" / "performance_office").glob("kpi_submissions_*.csv"))
    return pd.concat([pd.read_csv(f, keep_default_na=False).assign(_file=f.name) for f in files], ignore_index=True)


def test_submissions_arrive_the_month_after_the_period(office):
    subs = submissions(office)
    periods = sorted(subs["period"].unique())
    # as of 2026-10-31 September's values are published (10 October), October's are not yet
    assert periods[0] == "2023-07" and periods[-1] == "2026-09" and len(periods) == 39
    assert (subs["_file"] == "kpi_submissions_" + subs["period"] + ".csv").all()
    submitted = pd.to_datetime(subs["submitted_at"])
    period_end = pd.to_datetime(subs["period"] + "-01") + pd.offsets.MonthEnd(0)
    assert ((submitted > period_end) & (submitted - period_end < pd.Timedelta(days=perf.PUBLISH_DAY))).all()
    late = submitted.dt.day > perf.SUBMISSION_DUE_DAY
    assert 0.03 < late.mean() < 0.25, "most departments submit by the due day, some late"
    assert subs["submitted_by"].str.fullmatch(EMAIL).all()
    assert set(subs["kpi_id"]) == set(perf.KPIS)
    assert 0.95 < len(subs) / (len(periods) * len(perf.KPIS)) < 1, "a few submissions never arrive"
    assert not subs.duplicated(["kpi_id", "period"]).any()
    assert office.row_counts["perf_office.kpi_submissions"] == len(subs)


def test_values_agree_with_numerator_and_denominator(office):
    subs = submissions(office)
    with_ratio = subs[subs["denominator"] != ""]
    ratio = with_ratio["numerator"].astype(float) / with_ratio["denominator"].astype(float)
    scale = with_ratio["kpi_id"].map(lambda k: 1 if perf.KPIS[k][1] == "mean" else 100)
    assert (abs(ratio * scale - with_ratio["value"].astype(float)) <= 0.01 * with_ratio["value"].astype(float)).all()


def test_planted_swing_moves_more_than_15_percent(office):
    lib = submissions(office).query("kpi_id == @perf.SWING_KPI").sort_values("period").set_index("period")["value"].astype(float)
    change = lib.pct_change().abs()
    swing = perf.swing_period(office)
    assert change[swing] > 0.15
    assert submissions(office).query("period == @swing and kpi_id == @perf.SWING_KPI")["notes"].item() == perf.SWING_NOTE
    assert (change.drop([swing, lib.index[lib.index.get_loc(swing) + 1]]).dropna() < 0.15).all(), "the swing stands out"


def test_strategic_goals_register(office):
    goals = pd.read_csv(office.out.joinpath(*DROPS, "strategic_goals.csv"), keep_default_na=False).set_index("goal_id")
    vacant = goals.loc["G-VACANT-1000"]
    assert vacant["kpi_id"] == "ce_properties_addressed" and vacant["department_code"] == "ce"
    assert vacant["target_value"] == 1000 and vacant["start_date"] == "2024-01-01"
    assert dt.date.fromisoformat(vacant["deadline"]) - dt.date(2024, 1, 1) == dt.timedelta(days=1000)
    assert len(goals) >= 6 and goals["kpi_id"].is_unique
    assert (goals["deadline"] > goals["start_date"]).all() and (goals["owner"] != "").all()


def test_same_seed_same_bytes_other_seed_differs(office, tmp_path):
    assert digests(generate(make_ctx(tmp_path / "again"), perf).out) == digests(office.out)
    other = digests(generate(make_ctx(tmp_path / "other", seed=8), perf).out)
    assert other["drops/performance_office/kpi_submissions_2024-01.csv"] != digests(office.out)["drops/performance_office/kpi_submissions_2024-01.csv"]


def test_advance_publishes_the_next_month(office, tmp_path):
    ctx = generate(make_ctx(tmp_path / "grown"), perf)
    before = digests(ctx.out)
    advance(ctx, dt.date(2026, 11, 9), perf)
    assert digests(ctx.out) == before, "October's values are published on 10 November"
    advance(ctx, dt.date(2026, 11, 12), perf)
    after = digests(ctx.out)
    assert {k: after[k] for k in before} == before
    assert set(after) - set(before) == {"drops/performance_office/kpi_submissions_2026-10.csv"}
    direct = generate(make_ctx(tmp_path / "direct", as_of=dt.date(2026, 11, 12), start=ctx.start), perf)
    assert digests(direct.out) == after


def test_kpi_ids_are_the_registrys(office):
    """Submitted values and goals use the KPI registry's ids, so the warehouse can join them."""
    registry = pd.read_csv(Path(__file__).parents[2] / "dbt_project" / "seeds" / "kpi_registry.csv")
    submitted = set(registry.loc[registry["source"] == "submitted", "id"])
    assert set(perf.KPIS) == submitted
    goals = pd.read_csv(office.out.joinpath(*DROPS, "strategic_goals.csv"))
    assert set(goals["kpi_id"]) <= set(registry["id"])
