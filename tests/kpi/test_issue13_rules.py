"""Issue 13's rules on hand-made series, every expectation computed by hand in the comments:
fiscal-year-aware comparisons, one flag per onset, resolved vs condition cleared, days open and escalation (for a
higher-is-better and a lower-is-better KPI), bounded goal progress judged up to the deadline, the mmr rule profile
(ties and missing years), held-back data caveats and the registry's rules_profile column."""
import datetime as dt

import duckdb
import pandas as pd
import pytest
from typer.testing import CliRunner

from citystat.kpi import caveats, flags, goals, status
from citystat.kpi.problems import ValidationError
from citystat.kpi.registry import REGISTRY_PATH, TARGETS_PATH, load_registry

from kpi_helpers import monthly, row_of, run_engine

pytestmark = pytest.mark.timeout(120)

T0 = dt.datetime(2026, 11, 1, 9, 0, 0)


@pytest.fixture
def con(tmp_path):
    connection = duckdb.connect(str(tmp_path / "work.duckdb"))
    yield connection
    connection.close()


def _rows(kpi_id, points, **columns):
    return [{"kpi_id": kpi_id, "period": p, "value": v, **columns} for p, v in points]


def _flags(con):
    return {r[0]: r[1:] for r in con.execute(
        "SELECT flag_id, status, recovered_period, cleared_period, days_open FROM metrics.flags ORDER BY flag_id").fetchall()}


# ---- fiscal-year-aware comparisons ---------------------------------------------------------------------------

def _paving():
    # lane miles, fiscal year to date (resets on July 1), higher is better, 10% threshold; July 2025 is missing
    return run_engine(_rows("miles", [("2024-06", 60.0), ("2024-07", 4.0), ("2024-08", 9.0), ("2025-06", 62.0),
                                      ("2025-08", 8.1)], grain="fytd", desired_direction="up", flag_threshold=0.10))


def test_fytd_values_never_compare_across_the_july_reset():
    table = _paving()
    july = row_of(table, "miles", "2024-07")
    # first month of FY2025: not against June's FY2024 total (60 -> 4 would be -93%); July 2023 has no value
    assert pd.isna(july["previous_period"]) and pd.isna(july["comparison_basis"]) and not july["pop_flag"]
    august = row_of(table, "miles", "2024-08")
    # within the fiscal year, month over month: (9 - 4) / 4 = +125%
    assert (august["previous_period"], august["comparison_basis"]) == ("2024-07", "previous period")
    assert august["relative_change"] == pytest.approx(1.25)
    # July 2025 is missing: August 2025 is compared with August 2024 (8.1 vs 9 = -10%), never with June 2025's 62
    late = row_of(table, "miles", "2025-08")
    assert (late["previous_period"], late["comparison_basis"]) == ("2024-08", "same period last year")
    assert late["relative_change"] == pytest.approx(-0.10)
    raised = {f["flag_id"]: f for f in flags.detect_flags(table)}
    assert set(raised) == {"miles:2025-08:worsened"}  # a real slip against last year's August, not the reset
    assert "against 2024-08 (same period last year)" in raised["miles:2025-08:worsened"]["message"]


def test_monthly_kpis_still_compare_with_the_previous_month_across_july():
    table = run_engine(monthly("m", "2025-06", [100.0, 80.0], desired_direction="up"))
    july = row_of(table, "m", "2025-07")
    assert (july["previous_period"], july["relative_change"]) == ("2025-06", pytest.approx(-0.2))


# ---- flags: a lower-is-better KPI and a higher-is-better one ------------------------------------------------

def _turnout(values):
    # fire turnout p90 seconds: LOWER is better, target 80, 5% threshold (a small slip matters)
    return run_engine(monthly("turnout", "2025-01", values, target=80.0, desired_direction="down", flag_threshold=0.05))


def test_down_kpi_worsening_is_flagged_and_resolves_only_when_back_near_the_pre_swing_value(con):
    # Jan 76 green; Feb 84: +10.5% (>= 5%) the wrong way for a down KPI, 5% above target = yellow -> worsened
    # Mar 82: yellow, still (82 - 76) / 76 = 7.9% worse than before the swing -> still open
    # Apr 79: green and (79 - 76) / 76 = 3.9% < 5% -> resolved in 2025-04
    flags.sync_flags(con, _turnout([76.0, 84.0, 82.0]), now=T0)
    assert _flags(con) == {"turnout:2025-02:worsened": ("open", None, None, 31)}  # Feb 28 -> Mar 31
    flags.sync_flags(con, _turnout([76.0, 84.0, 82.0, 79.0]), now=T0)
    assert _flags(con) == {"turnout:2025-02:worsened": ("resolved", "2025-04", None, 61)}  # Feb 28 -> Apr 30
    # better moves of a down KPI (84 -> 82 -> 79) raise nothing


def test_down_kpi_red_onset_absorbs_the_move_that_caused_it(con):
    # 76 -> 95: +25% the wrong way and 18.75% above target 80 (beyond 10%): one red flag, carrying the move;
    # 95 -> 99 (+4.2% < 5%) while red: nothing new
    raised = flags.detect_flags(_turnout([76.0, 95.0, 99.0]))
    assert [f["flag_id"] for f in raised] == ["turnout:2025-02:red"]
    assert raised[0]["relative_change"] == pytest.approx(0.25) and raised[0]["baseline_value"] == 76.0
    # a further slide while red is a new event: 95 -> 105 (+10.5%) in March raises a worsened flag; April 96 undoes
    # that swing ((96 - 95) / 95 = 1% < 5%) but is still red (20% above 80): condition cleared, not resolved
    flags.sync_flags(con, _turnout([76.0, 95.0, 105.0, 96.0]), now=T0)
    assert _flags(con) == {"turnout:2025-02:red": ("escalated", None, None, 61),  # 61 days > 60, nobody acted
                           "turnout:2025-03:worsened": ("condition cleared", None, "2025-04", 30)}


def _on_time(values):
    # % on time: HIGHER is better, target 100 here to keep the arithmetic plain, 10% threshold
    return run_engine(monthly("ontime", "2025-01", values, target=100.0, desired_direction="up"))


def test_up_kpi_meeting_target_without_undoing_the_swing_is_condition_cleared_not_resolved(con):
    # Jan 130; Feb 110: -15.4% while green -> worsened (baseline 130)
    # Mar 112: green (meets 100) but (130 - 112) / 130 = 13.8% below the pre-swing value -> condition cleared
    flags.sync_flags(con, _on_time([130.0, 110.0, 112.0]), now=T0)
    assert _flags(con) == {"ontime:2025-02:worsened": ("condition cleared", None, "2025-03", 31)}
    # Apr 125: (130 - 125) / 130 = 3.8% < 10% -> recovered on the rule that raised it: resolved
    flags.sync_flags(con, _on_time([130.0, 110.0, 112.0, 125.0]), now=T0)
    assert _flags(con)["ontime:2025-02:worsened"][:2] == ("resolved", "2025-04")


def test_up_kpi_red_flag_resolves_when_out_of_red_and_not_before(con):
    # 100 -> 85 (red: 15% below 100, absorbs the -15% move); 88 still red (12% below); 92 yellow -> resolved
    flags.sync_flags(con, _on_time([100.0, 85.0, 88.0]), now=T0)
    assert _flags(con)["ontime:2025-02:red"][:2] == ("open", None)
    flags.sync_flags(con, _on_time([100.0, 85.0, 88.0, 92.0]), now=T0)
    assert _flags(con)["ontime:2025-02:red"][:2] == ("resolved", "2025-04")


def test_recovery_rule_is_direction_aware():
    flag = {"kind": "worsened", "baseline_value": 76.0, "threshold": 0.05, "comparison_basis": "previous period"}
    # down KPI at 82: 7.9% worse than 76 -> not recovered; at 70 (better than before) -> recovered
    assert flags.recovery(flag, {"value": 82.0, "status": "yellow", "desired_direction": "down"}) is None
    assert flags.recovery(flag, {"value": 70.0, "status": "green", "desired_direction": "down"}) == "resolved"
    # the same numbers for an up KPI: 82 is better than 76 (recovered), 70 is 7.9% worse (not)
    assert flags.recovery(flag, {"value": 82.0, "status": "yellow", "desired_direction": "up"}) == "resolved"
    assert flags.recovery(flag, {"value": 70.0, "status": "yellow", "desired_direction": "up"}) is None


def test_flags_age_and_escalate_when_nobody_acts(con):
    # red from Feb 2025 to May: open from Feb 28 to the as-of May 31 = 92 days > 60 -> escalated once by the engine
    table = _on_time([100.0, 80.0, 80.0, 80.0, 80.0])
    result = flags.sync_flags(con, table, now=T0)
    assert result.escalated == ["ontime:2025-02:red"]
    assert _flags(con)["ontime:2025-02:red"] == ("escalated", None, None, 92)
    assert flags.sync_flags(con, table, now=T0 + dt.timedelta(days=1)).escalated == []  # once


def test_a_flag_someone_acted_on_is_not_escalated(con):
    flags.sync_flags(con, _on_time([100.0, 80.0]), now=T0)
    flags.record_action(con, "ontime:2025-02:red", "analyst", "asked for a recovery plan", "acknowledged", acted_at=T0)
    result = flags.sync_flags(con, _on_time([100.0, 80.0, 80.0, 80.0, 80.0]), now=T0 + dt.timedelta(hours=1))
    assert result.escalated == [] and _flags(con)["ontime:2025-02:red"][0] == "acknowledged"


def test_days_open_by_hand():
    assert flags.days_open("2025-02", dt.date(2025, 5, 31)) == 92
    assert flags.days_open("2025-02", dt.date(2026, 1, 1), closed_period="2025-03") == 31
    assert flags.days_open("2025-06", dt.date(2025, 6, 15)) == 0


# ---- goals -------------------------------------------------------------------------------------------------------

START, DEADLINE = dt.date(2023, 7, 1), dt.date(2026, 6, 30)


def test_reduce_to_goal_that_got_worse_shows_zero_progress_not_minus_258_percent():
    # 'reduce to 420 s' from 480 s; 643 s on the deadline: (643 - 480) / (420 - 480) = -2.72 -> bounded to 0
    pacing = goals.pace_goal("G-FIRE", 480, 420, START, DEADLINE, 643, dt.date(2026, 10, 31))
    assert pacing.goal_type == "decrease" and pacing.progress == 0.0 and pacing.change_from_baseline == 163
    assert pacing.status == "missed" and pacing.final is True


def test_reduce_to_goal_half_way_at_half_time_is_on_track():
    # 480 -> 420 over 600 days; after 300 days at 450: progress (450 - 480) / (420 - 480) = 0.5 = elapsed share
    pacing = goals.pace_goal("G", 480, 420, START, START + dt.timedelta(days=600), 450, START + dt.timedelta(days=300))
    assert pacing.progress == pytest.approx(0.5) and pacing.status == "on track"


def test_increase_goal_beyond_target_is_bounded_at_one():
    pacing = goals.pace_goal("G", 60, 90, START, DEADLINE, 97.5, dt.date(2026, 1, 31))
    assert pacing.progress == 1.0 and pacing.status == "achieved" and pacing.final is False


def _goal(**kw):
    return {"goal_id": "G", "title": "t", "kpi_id": "k", "department_code": "hs", "baseline": 60.0, "target_value": 90.0,
            "unit": "pct", "start_date": START, "deadline": DEADLINE, "owner": "o", **kw}


def test_level_goal_is_judged_on_values_up_to_the_deadline_only():
    # June 2026 (the deadline month) 88; July 2026 95 comes after the deadline and does not count:
    # progress (88 - 60) / 30 = 0.933 -> missed (the old rule said achieved on July's 95)
    series = pd.DataFrame(_rows("k", [("2026-05", 85.0), ("2026-06", 88.0), ("2026-07", 95.0)]))
    [row] = goals.pace_goals([_goal()], series, dt.date(2026, 10, 31)).to_dict("records")
    assert row["current_value"] == 88.0 and row["progress"] == pytest.approx(28 / 30)
    assert row["status"] == "missed" and row["judged_on"] == DEADLINE and row["final"]


def test_cumulative_goal_counts_months_ending_by_the_deadline():
    # 10 things from 2026-01-01 to 2026-03-31: 4 + 4 + 1 = 9 by the deadline; April's 5 is too late -> missed
    series = pd.DataFrame(_rows("k", [("2026-01", 4.0), ("2026-02", 4.0), ("2026-03", 1.0), ("2026-04", 5.0)]))
    goal = _goal(baseline=0.0, target_value=10.0, start_date=dt.date(2026, 1, 1), deadline=dt.date(2026, 3, 31),
                 measure="cumulative")
    [row] = goals.pace_goals([goal], series, dt.date(2026, 5, 31)).to_dict("records")
    assert (row["current_value"], row["status"]) == (9.0, "missed")


def test_maintain_goal_progress_is_the_share_of_periods_holding_the_level():
    # keep at least 85: Jan 86 yes, Feb 84 no, Mar 90 yes, Apr 85 yes (a tie holds) -> 3 / 4 = 0.75; Apr holds -> on track
    series = pd.DataFrame(_rows("k", [("2026-01", 86.0), ("2026-02", 84.0), ("2026-03", 90.0), ("2026-04", 85.0)]))
    goal = _goal(baseline=85.0, target_value=85.0, start_date=dt.date(2026, 1, 1), deadline=dt.date(2026, 12, 31))
    [row] = goals.pace_goals([goal], series, dt.date(2026, 4, 30)).to_dict("records")
    assert (row["goal_type"], row["progress"], row["status"]) == ("maintain", 0.75, "on track")
    # deadline 2026-02-28: judged on February's 84 -> final verdict missed
    [row] = goals.pace_goals([{**goal, "deadline": dt.date(2026, 2, 28)}], series, dt.date(2026, 4, 30)).to_dict("records")
    assert (row["current_value"], row["progress"], row["status"]) == (84.0, 0.5, "missed")


# ---- the mmr rule profile -----------------------------------------------------------------------------------------

def _years(kpi_id, points, target, direction):
    return [{"kpi_id": kpi_id, "period": p, "value": v, "target": target if p == "FY2025" else None,
             "desired_direction": direction} for p, v in points]


UP = _years("up", [("FY2019", 10.0), ("FY2020", None), ("FY2021", 12.0), ("FY2022", None), ("FY2023", 11.0),
                   ("FY2024", 12.0), ("FY2025", 12.0)], 12.0, "up")
DOWN = _years("down", [("FY2023", 5.0), ("FY2024", 4.0), ("FY2025", 4.0)], 4.0, "down")


def _evaluate(rows, rules):
    from citystat.kpi import series

    return status.evaluate(series.prepare(series.records_from_frame(pd.DataFrame(rows))), rules=rules)


def test_mmr_profile_ties_count_as_improving_and_averages_use_the_years_available():
    mmr = row_of(_evaluate(UP + DOWN, "mmr"), "up", "FY2025")
    # met: 12 >= 12. last year 12 = 12: unchanged counts as improving ("not worse")
    assert mmr["met"] is True and mmr["trend_vs_last_year"] == "improving"
    # 3-year: FY2022-FY2024 with FY2022 missing -> (11 + 12) / 2 = 11.5; 5-year: FY2020-FY2024 -> (12 + 11 + 12) / 3
    assert mmr["avg_3yr"] == pytest.approx(11.5) and mmr["trend_vs_3yr_avg"] == "improving"
    assert mmr["avg_5yr"] == pytest.approx(35 / 3) and mmr["trend_vs_5yr_avg"] == "improving"
    down = row_of(_evaluate(UP + DOWN, "mmr"), "down", "FY2025")
    # down: 4 <= 4 met; 4 vs 4 last year: improving; 3-/5-year over FY2023-FY2024 = 4.5 -> 4 is lower: improving
    assert (down["met"], down["trend_vs_last_year"], down["avg_3yr"], down["trend_vs_3yr_avg"]) == (True, "improving", 4.5, "improving")


def test_default_profile_on_the_same_series():
    default = row_of(_evaluate(UP, None), "up", "FY2025")
    # a tie is not improving; an average needs every prior year -> insufficient data
    assert default["trend_vs_last_year"] == "not improving"
    assert default["avg_3yr"] is None or pd.isna(default["avg_3yr"])
    assert default["trend_vs_3yr_avg"] == "insufficient data" and default["trend_vs_5yr_avg"] == "insufficient data"


def test_mmr_met_uses_the_fiscal_year_to_date_value():
    # monthly up KPI, target 80: July 90, August 70. Default: August 70 < 80 is not met and red (12.5% below).
    # MMR: year to date (90 + 70) / 2 = 80 >= 80 -> met, green
    rows = monthly("m", "2025-07", [90.0, 70.0], target=80.0, desired_direction="up")
    default, mmr = row_of(run_engine(rows), "m", "2025-08"), row_of(_evaluate(rows, "mmr"), "m", "2025-08")
    assert (default["met"], default["status"]) == (False, "red")
    assert (mmr["met"], mmr["status"], mmr["ytd_value"], mmr["rules_profile"]) == (True, "green", 80.0, "mmr")


def test_cli_rules_mmr(tmp_path):
    from citystat.cli import app

    path = tmp_path / "series.csv"
    pd.DataFrame(UP).to_csv(path, index=False)
    out = tmp_path / "out.csv"
    result = CliRunner().invoke(app, ["kpi", "status", str(path), "--rules", "mmr", "--no-registry", "--out", str(out)])
    assert result.exit_code == 0, result.output
    row = pd.read_csv(out).set_index("period").loc["FY2025"]
    assert (row["trend_vs_last_year"], row["avg_3yr"], row["rules_profile"]) == ("improving", 11.5, "mmr")
    bad = CliRunner().invoke(app, ["kpi", "status", str(path), "--rules", "nyc"])
    assert bad.exit_code == 1 and "--rules 'nyc' is not one of default, mmr" in bad.output


def test_registry_rules_profile_is_validated(tmp_path):
    text = REGISTRY_PATH.read_text()
    header, first, rest = text.split("\n", 2)
    bad = tmp_path / "kpi_registry.csv"
    bad.write_text("\n".join([header, first.rsplit(",", 1)[0] + ",nyc", rest]))
    with pytest.raises(ValidationError) as excinfo:
        load_registry(bad, TARGETS_PATH)
    assert any(p.field == "rules_profile" and "'nyc' is not one of default, mmr" in p.message for p in excinfo.value.problems)
    assert {k.rules_profile for k in load_registry().kpis.values()} <= {"default", "mmr"}


# ---- gray is not "not enough data" for volumes; caveats -----------------------------------------------------------

def test_a_volume_kpi_with_forty_months_is_tracked_not_short_of_data():
    table = run_engine(monthly("volume", "2023-07", [100.0 + i for i in range(40)], desired_direction="none"))
    last = row_of(table, "volume", "2026-10")
    assert (last["status"], last["gray_reason"], last["periods_with_data"]) == ("gray", "tracked (direction none)", 40)
    assert "tracked" in last["status_reason"]


def test_held_back_files_become_a_caveat_on_the_kpis_that_read_them(registry):
    held = {"ce_vacant.cases": ["vacant_cases_2025-03-14.csv"]}
    found = caveats.kpi_caveats(registry, held)
    assert "ce_properties_addressed" in found and "ce_vacant.cases" in found["ce_properties_addressed"]
    assert "vacant_cases_2025-03-14.csv" in found["ce_properties_addressed"]
    assert "pw_on_time_pct" not in found  # reads crm311, nothing held back there
    table = caveats.add_caveats(pd.DataFrame({"kpi_id": ["ce_properties_addressed", "pw_on_time_pct"]}), found)
    assert table["caveat"].notna().tolist() == [True, False]


def test_the_memo_lists_caveats_where_the_numbers_are():
    from citystat.kpi import memo

    table = run_engine(monthly("ce_x", "2026-09", [10.0, 12.0], target=10.0, desired_direction="up"))
    table = caveats.add_caveats(table, {"ce_x": "1 file(s) of ce_vacant.cases held back at landing"})
    text = memo.build_memo("2026-10", table).markdown
    assert "## Data caveats (numbers that may be short)" in text and "held back at landing" in text
    plain = memo.build_memo("2026-10", run_engine(monthly("k", "2026-09", [10.0, 12.0]))).markdown
    assert "Data caveats" not in plain
