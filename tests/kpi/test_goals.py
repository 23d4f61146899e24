"""Strategic goal pacing against hand calculations."""
import datetime as dt

import pandas as pd
import pytest

from citystat.kpi import goals
from citystat.kpi.problems import ValidationError

START = dt.date(2024, 1, 1)
DEADLINE = START + dt.timedelta(days=1000)  # 1,000 properties in 1,000 days -> 2026-09-27


def test_thousand_in_thousand_days_by_hand():
    # 2025-01-01 is 366 days in (2024 is a leap year); 400 addressed so far.
    pacing = goals.pace_goal("G-VACANT-1000", 0, 1000, START, DEADLINE, 400, dt.date(2025, 1, 1))
    assert DEADLINE == dt.date(2026, 9, 27)
    assert (pacing.days_elapsed, pacing.days_total, pacing.days_remaining) == (366, 1000, 634)
    assert pacing.progress == pytest.approx(0.4)
    assert pacing.elapsed_share == pytest.approx(0.366)
    assert pacing.pace_needed_per_day == pytest.approx(1.0)
    assert pacing.actual_pace_per_day == pytest.approx(400 / 366)
    assert pacing.pace_to_finish_per_day == pytest.approx(600 / 634)
    # at 400/366 a day, 1,000 takes 1000 * 366 / 400 = 915 days: 2024-01-01 + 915 days
    assert pacing.projected_completion_date == dt.date(2026, 7, 4) == START + dt.timedelta(days=915)
    assert pacing.status == "on track"


def test_behind_pace_is_off_track_with_a_late_projection():
    pacing = goals.pace_goal("G", 0, 1000, START, DEADLINE, 300, dt.date(2025, 1, 1))
    assert pacing.status == "off track"
    assert pacing.projected_completion_date == START + dt.timedelta(days=1220)  # 1000 * 366 / 300 = 1220
    assert pacing.projected_completion_date > DEADLINE


def test_exactly_on_pace_is_on_track():
    pacing = goals.pace_goal("G", 0, 1000, START, DEADLINE, 500, START + dt.timedelta(days=500))
    assert pacing.status == "on track" and pacing.projected_completion_date == DEADLINE


def test_goal_that_goes_down():
    # cut median days to close from 10 to 4 within 600 days; after 300 days it is at 8: a third of the way in half the time
    pacing = goals.pace_goal("G", 10, 4, START, START + dt.timedelta(days=600), 8, START + dt.timedelta(days=300))
    assert pacing.progress == pytest.approx(1 / 3) and pacing.status == "off track"
    assert pacing.pace_needed_per_day == pytest.approx(-0.01)
    assert pacing.projected_completion_date == START + dt.timedelta(days=900)


def test_after_the_deadline_the_clock_stops_at_the_deadline():
    # judged on 2026-10-31, after the deadline 2026-09-27: the value given is the one on the deadline (1,050) and the
    # days stop at 1,000: pace 1.05/day, projected 1000 / 1.05 = 952.4 -> 953 days -> 2026-08-11; final verdict
    pacing = goals.pace_goal("G", 0, 1000, START, DEADLINE, 1050, dt.date(2026, 10, 31))
    assert pacing.days_elapsed == 1000 and pacing.elapsed_share == 1.0 and pacing.status == "achieved"
    assert pacing.judged_on == DEADLINE and pacing.final is True
    assert pacing.projected_completion_date == dt.date(2026, 8, 11)


def test_achieved_missed_not_started_and_no_pace():
    assert goals.pace_goal("G", 0, 1000, START, DEADLINE, 1000, dt.date(2026, 1, 1)).status == "achieved"
    assert goals.pace_goal("G", 0, 1000, START, DEADLINE, 990, dt.date(2026, 10, 1)).status == "missed"
    assert goals.pace_goal("G", 0, 1000, START, DEADLINE, 0, dt.date(2023, 12, 1)).status == "not started"
    assert goals.pace_goal("G", 0, 1000, START, DEADLINE, None, dt.date(2025, 1, 1)).status == "no data"
    stalled = goals.pace_goal("G", 0, 1000, START, DEADLINE, 0, dt.date(2025, 1, 1))
    assert stalled.projected_completion_date is None and stalled.status == "off track"
    with pytest.raises(ValueError, match="deadline 2024-01-01 is not after start_date 2024-01-01"):
        goals.pace_goal("G", 0, 1, START, START, 0, START)


def test_pace_goals_from_the_register_and_a_monthly_series(registry):
    register = pd.DataFrame([{
        "goal_id": "G-VACANT-1000", "title": "1,000 vacant and abandoned properties addressed in 1,000 days",
        "kpi_id": "ce_properties_addressed", "department_code": "ce", "baseline": "0", "target_value": "1000",
        "unit": "properties", "start_date": "2024-01-01", "deadline": "2026-09-27", "owner": "Code Enforcement",
    }])
    months = pd.period_range("2023-10", "2025-02", freq="M").strftime("%Y-%m")
    series = pd.DataFrame({"kpi_id": "ce_properties_addressed", "period": months, "value": 40.0})
    table = goals.pace_goals(goals.read_goals(register), series, dt.date(2025, 1, 1), registry)
    row = table.iloc[0]
    # January 2024 .. January 2025 = 13 months x 40 (the three 2023 months are before the start, Feb 2025 after as_of)
    assert row["measure"] == "cumulative" and row["current_value"] == 520
    assert row["projected_completion_date"] == START + dt.timedelta(days=704)  # ceil(1000 * 366 / 520) = 704
    assert row["status"] == "on track"


def test_level_goal_takes_the_latest_value(registry):
    register = pd.DataFrame([{"goal_id": "G2", "title": "PW on time 95%", "kpi_id": "pw_on_time_pct", "department_code": "pw",
                              "baseline": 57, "target_value": 95, "unit": "pct", "start_date": "2023-07-01",
                              "deadline": "2026-06-30", "owner": "PW"}])
    series = pd.DataFrame({"kpi_id": "pw_on_time_pct", "period": ["2024-05", "2024-06"], "value": [70.0, 76.0]})
    row = goals.pace_goals(goals.read_goals(register), series, dt.date(2024, 7, 1), registry).iloc[0]
    assert row["measure"] == "level" and row["current_value"] == 76.0 and row["progress"] == pytest.approx(0.5)


def test_a_count_kpi_with_a_level_goal_is_not_summed(registry):
    # "Welcome 130,000 library visits a month": lib_visits counts visits, but the goal starts from 118,000
    register = pd.DataFrame([{"goal_id": "G-LIBRARY-VISITS", "title": "130,000 visits a month", "kpi_id": "lib_visits",
                              "department_code": "lib", "baseline": 118000, "target_value": 130000, "unit": "visits",
                              "start_date": "2024-07-01", "deadline": "2026-07-01", "owner": "Library"}])
    series = pd.DataFrame({"kpi_id": "lib_visits", "period": ["2025-05", "2025-06"], "value": [119000.0, 124000.0]})
    row = goals.pace_goals(goals.read_goals(register), series, dt.date(2025, 7, 1), registry).iloc[0]
    assert row["measure"] == "level" and row["current_value"] == 124000.0 and row["progress"] == pytest.approx(0.5)
    register["measure"] = "cumulative"  # an explicit measure column decides
    row = goals.pace_goals(goals.read_goals(register), series, dt.date(2025, 7, 1), registry).iloc[0]
    assert row["measure"] == "cumulative" and row["current_value"] == 118000 + 119000 + 124000


def test_bad_goal_rows_are_named():
    register = pd.DataFrame([{"goal_id": "G", "title": "t", "kpi_id": "k", "department_code": "ce", "baseline": "zero",
                              "target_value": 10, "unit": "x", "start_date": "2024-13-01", "deadline": "2025-01-01", "owner": "o"}])
    with pytest.raises(ValidationError) as excinfo:
        goals.read_goals(register, "strategic_goals.csv")
    assert [str(p) for p in excinfo.value.problems] == [
        "strategic_goals.csv row 1: baseline: 'zero' is not a number",
        "strategic_goals.csv row 1: start_date: '2024-13-01' is not a date (YYYY-MM-DD)",
    ]
