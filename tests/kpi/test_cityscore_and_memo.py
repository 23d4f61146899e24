"""CityScore-style rollups and the monthly memo, built from real status-engine output."""
import datetime as dt

import pandas as pd
import pytest

from citystat.kpi import cityscore, goals
from citystat.kpi.memo import build_memo

from kpi_helpers import monthly, run_engine


def test_fiscal_quarters_and_iso_weeks():
    assert cityscore.bucket(dt.date(2025, 7, 1), "quarter") == ("FY2026-Q1", dt.date(2025, 7, 1))
    assert cityscore.bucket(dt.date(2025, 12, 31), "quarter") == ("FY2026-Q2", dt.date(2025, 10, 1))
    assert cityscore.bucket(dt.date(2026, 2, 14), "quarter") == ("FY2026-Q3", dt.date(2026, 1, 1))
    assert cityscore.bucket(dt.date(2026, 6, 30), "quarter") == ("FY2026-Q4", dt.date(2026, 4, 1))
    assert cityscore.bucket(dt.date(2025, 12, 31), "week") == ("2026-W01", dt.date(2025, 12, 29))


def _daily_scores():
    # Three KPIs over four days (Mon 2025-09-29 .. Thu 2025-10-02): two in pw, one in san.
    rows = []
    for i, day in enumerate(pd.date_range("2025-09-29", periods=4).strftime("%Y-%m-%d")):
        rows.append({"kpi_id": "pw_a", "period": day, "value": 80.0 + 10 * i, "target": 100.0, "desired_direction": "up", "department_code": "pw"})
        rows.append({"kpi_id": "pw_b", "period": day, "value": 2.0, "target": 2.0, "desired_direction": "down", "department_code": "pw"})
        rows.append({"kpi_id": "san_a", "period": day, "value": 50.0, "target": 100.0, "desired_direction": "up", "department_code": "san"})
    return run_engine(rows)


def test_daily_rollup_means_of_metric_scores():
    table = cityscore.rollup(_daily_scores(), "day")
    first = table[table["period"] == "2025-09-29"].set_index("level")
    # scores: pw_a 0.8, pw_b 1.0, san_a 0.5 -> pw 0.9, san 0.5, citywide mean of the three metrics 0.7667 (not of departments)
    departments = table[(table["period"] == "2025-09-29") & (table["level"] == "department")].set_index("department_code")
    assert departments.loc["pw", "score"] == pytest.approx(0.9) and departments.loc["san", "score"] == pytest.approx(0.5)
    assert first.loc["citywide", "score"] == pytest.approx((0.8 + 1.0 + 0.5) / 3)
    assert first.loc["citywide", "metrics_scored"] == 3


def test_week_month_and_quarter_rollups():
    scores = _daily_scores()
    month = cityscore.rollup(scores, "month")
    september = month[(month["period"] == "2025-09") & (month["level"] == "kpi")].set_index("kpi_id")
    assert september.loc["pw_a", "score"] == pytest.approx((0.8 + 0.9) / 2)  # 29 and 30 September
    quarter = cityscore.rollup(scores, "quarter")
    assert set(quarter["period"]) == {"FY2026-Q1", "FY2026-Q2"}
    week = cityscore.rollup(scores, "week")
    citywide = week[week["level"] == "citywide"].iloc[0]
    assert citywide["period"] == "2025-W40"
    assert citywide["score"] == pytest.approx(((0.8 + 0.9 + 1.0 + 1.1) / 4 + 1.0 + 0.5) / 3)
    full = cityscore.cityscore_table(scores)
    assert list(dict.fromkeys(full["grain"])) == ["day", "week", "month", "quarter"]


def test_monthly_scores_cannot_be_split_into_days():
    monthly_scores = run_engine(monthly("k", "2025-01", [1.0, 2.0], target=1.0, desired_direction="up"))
    with pytest.raises(ValueError, match="cannot roll month scores up to week"):
        cityscore.rollup(monthly_scores, "week")
    assert list(dict.fromkeys(cityscore.cityscore_table(monthly_scores)["grain"])) == ["month", "quarter"]


def test_unscored_kpis_are_counted_out():
    scores = run_engine([{"kpi_id": "a", "period": "2025-01", "value": 1.0, "target": 1.0, "desired_direction": "up"},
                         {"kpi_id": "b", "period": "2025-01", "value": 1.0, "desired_direction": "none"}])
    citywide = cityscore.rollup(scores, "month").query("level == 'citywide'").iloc[0]
    assert citywide["score"] == 1.0 and citywide["metrics_scored"] == 1


def test_memo_sections(registry, tmp_path):
    rows = (monthly("fire_turnout_p90_sec", "2025-08", [100.0, 99.0, 118.75])     # critical, red in October
            + monthly("pw_on_time_pct", "2025-08", [90.0, 91.0, 92.0])            # steady green
            + monthly("cs_requests_received", "2025-08", [1000.0, 1000.0, 1500.0]))  # +50%: the top mover
    status = run_engine(rows, registry)
    flags = pd.DataFrame([
        {"flag_id": "fire_turnout_p90_sec:2025-10:red", "department_code": "fire", "period": "2025-10",
         "message": "Fire turnout time (90th percentile) turned red in 2025-10", "status": "open"},
        {"flag_id": "pw_on_time_pct:2025-08:worsened", "department_code": "pw", "period": "2025-08",
         "message": "older, still escalated", "status": "escalated"},
        {"flag_id": "san_on_time_pct:2025-09:red", "department_code": "san", "period": "2025-09",
         "message": "older, resolved", "status": "resolved"},
    ])
    goal_table = pd.DataFrame([
        {"goal_id": "G1", "title": "Vacant properties", **vars(goals.pace_goal("G1", 0, 1000, dt.date(2024, 1, 1), dt.date(2026, 9, 27), 300, dt.date(2025, 1, 1)))},
        {"goal_id": "G2", "title": "On pace goal", **vars(goals.pace_goal("G2", 0, 1000, dt.date(2024, 1, 1), dt.date(2026, 9, 27), 500, dt.date(2025, 1, 1)))},
    ])
    memo = build_memo("2025-10", status, flags, goal_table)
    text = memo.markdown
    assert text.startswith("# Riverton performance memo — October 2025")
    critical = text.split("## Critical KPIs in red")[1].split("##")[0]
    assert "Fire turnout time (90th percentile)" in critical and "18.8% above target" in critical and "118.75" in critical
    movers = text.split("## Top movers")[1].split("##")[0]
    assert movers.index("311 service requests received") < movers.index("Fire turnout time") < movers.index("Public Works requests")
    assert "+50.0%" in movers
    new = text.split("## New flags this month")[1].split("##")[0]
    assert "fire_turnout_p90_sec:2025-10:red" in new
    unresolved = text.split("## Unresolved flags from earlier months")[1].split("##")[0]
    assert "pw_on_time_pct:2025-08:worsened" in unresolved and "san_on_time_pct" not in unresolved
    off_pace = text.split("## Goals off pace")[1]
    assert "Vacant properties" in off_pace and "On pace goal" not in off_pace and "2027-05-05" in off_pace
    assert "<table>" in memo.html and "<h2>Critical KPIs in red</h2>" in memo.html
    md_path, html_path = memo.write(tmp_path)
    assert md_path.read_text() == text and html_path.name == "memo_2025-10.html"


def test_memo_for_a_month_without_data_is_an_error(registry):
    status = run_engine(monthly("pw_on_time_pct", "2025-08", [90.0]), registry)
    with pytest.raises(ValueError, match="no rows for 2025-10"):
        build_memo("2025-10", status)
