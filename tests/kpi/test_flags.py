"""Persisted flags and the action log, on a real DuckDB file."""
import csv
import datetime as dt

import duckdb
import pytest

from citystat.kpi import flags
from citystat.kpi.problems import ValidationError

from kpi_helpers import monthly, run_engine

T0 = dt.datetime(2026, 11, 1, 9, 0, 0)
T1 = dt.datetime(2026, 12, 1, 9, 0, 0)


@pytest.fixture
def con(tmp_path):
    connection = duckdb.connect(str(tmp_path / "work.duckdb"))
    yield connection
    connection.close()


def _swing_series(values):
    """An up-KPI with target 100 and the default 10% threshold."""
    return run_engine(monthly("k", "2025-01", values, target=100.0, desired_direction="up", department_code="pw",
                              critical=True))


def _actions(con, flag_id=None):
    sql = "SELECT flag_id, actor, status, source, action FROM metrics.flag_actions"
    if flag_id:
        return con.execute(sql + " WHERE flag_id = ? ORDER BY acted_at, seq", [flag_id]).fetchall()
    return con.execute(sql + " ORDER BY acted_at, seq").fetchall()


def test_detects_red_spells_and_wrong_way_swings_only():
    table = _swing_series([100.0, 85.0, 80.0, 95.0, 120.0])
    found = {f["flag_id"]: f for f in flags.detect_flags(table)}
    # red from 2025-02 to 2025-03 is one spell; the -15% move in Feb that took it there is absorbed by the red flag
    # (one flag per onset); +18.75% and +26% are good news
    assert set(found) == {"k:2025-02:red"}
    assert found["k:2025-02:red"]["baseline_value"] == 100.0
    assert found["k:2025-02:red"]["relative_change"] == pytest.approx(-0.15)
    assert "(moved -15.0% against 2025-01)" in found["k:2025-02:red"]["message"]


def test_a_wrong_way_swing_outside_red_is_its_own_flag():
    # 130 -> 110 is -15.4% but still green (target 100): a worsened flag, no red one
    found = {f["flag_id"]: f for f in flags.detect_flags(_swing_series([130.0, 110.0]))}
    assert set(found) == {"k:2025-02:worsened"}
    assert "worsened -15.4% in 2025-02 against 2025-01 (threshold 10%)" in found["k:2025-02:worsened"]["message"]


def test_direction_none_moves_are_flagged_both_ways():
    table = run_engine(monthly("k", "2025-01", [100.0, 130.0, 100.0], desired_direction="none"))
    assert {f["flag_id"] for f in flags.detect_flags(table)} == {"k:2025-02:moved", "k:2025-03:moved"}


def test_sync_is_idempotent_across_reruns(con):
    table = _swing_series([100.0, 85.0, 80.0])
    first = flags.sync_flags(con, table, now=T0)
    assert sorted(first.raised) == ["k:2025-02:red"]
    before = (con.execute("SELECT * FROM metrics.flags ORDER BY flag_id").fetchall(), _actions(con))
    second = flags.sync_flags(con, table, now=T1)
    assert second.raised == [] and second.auto_resolved == [] and second.updated == 1
    assert con.execute("SELECT count(*) FROM metrics.flags").fetchone()[0] == 1
    assert _actions(con) == before[1]  # no duplicate 'raised' actions
    assert con.execute("SELECT min(raised_at), max(last_evaluated_at) FROM metrics.flags").fetchone() == (T0, T1)


def test_two_red_spells_are_two_flags_and_a_rerun_adds_none(con):
    table = _swing_series([100.0, 80.0, 100.0, 80.0])
    first = flags.sync_flags(con, table, now=T0)
    assert sorted(f for f in first.raised if f.endswith(":red")) == ["k:2025-02:red", "k:2025-04:red"]
    assert flags.sync_flags(con, table, now=T1).raised == []


def test_rerun_on_a_subset_of_periods_loses_nothing(con):
    flags.sync_flags(con, _swing_series([100.0, 85.0, 80.0]), now=T0)
    only_march = _swing_series([100.0, 85.0, 80.0])
    result = flags.sync_flags(con, only_march[only_march["period"] == "2025-03"], now=T1)
    # March alone looks like the start of a red spell, but the spell that began in February is still open
    assert result.raised == [] and result.condition_gone == []
    assert con.execute("SELECT count(*) FROM metrics.flags WHERE condition_present").fetchone()[0] == 1


def test_auto_resolve_when_the_indicator_recovers_keeps_history(con):
    flags.sync_flags(con, _swing_series([100.0, 85.0, 80.0]), now=T0)
    flags.record_action(con, "k:2025-02:red", "analyst@riverton.gov", "asked Public Works for a plan", "acknowledged",
                        acted_at=T0 + dt.timedelta(days=3))
    # April data arrives: 95 is yellow (out of red) and within 10% of the pre-swing 100
    result = flags.sync_flags(con, _swing_series([100.0, 85.0, 80.0, 95.0]), now=T1)
    assert sorted(result.auto_resolved) == ["k:2025-02:red"]
    rows = con.execute("SELECT flag_id, status, recovered_period, condition_present FROM metrics.flags ORDER BY flag_id").fetchall()
    assert rows == [("k:2025-02:red", "resolved", "2025-04", True)]
    history = _actions(con, "k:2025-02:red")
    assert [(a[1], a[2], a[3]) for a in history] == [
        ("citystat", "open", "engine"),
        ("analyst@riverton.gov", "acknowledged", "cli"),
        ("citystat", "resolved", "engine"),
    ]
    assert history[2][4] == "auto-resolved: indicator recovered in 2025-04"
    # rerunning neither resolves again nor reopens
    again = flags.sync_flags(con, _swing_series([100.0, 85.0, 80.0, 95.0]), now=T1 + dt.timedelta(days=1))
    assert again.auto_resolved == [] and len(_actions(con)) == 3


def test_swing_not_recovered_while_still_far_below_baseline(con):
    flags.sync_flags(con, _swing_series([115.0, 85.0, 92.0]), now=T0)
    status = dict(con.execute("SELECT flag_id, status FROM metrics.flags").fetchall())
    assert status == {"k:2025-02:red": "resolved"}  # 92 is yellow (8% below target 100): out of red


def test_a_person_can_reopen_an_auto_resolved_flag_and_it_stays_open(con):
    flags.sync_flags(con, _swing_series([100.0, 85.0, 95.0]), now=T0)
    flags.record_action(con, "k:2025-02:red", "director", "not convinced: one good month", "open", acted_at=T1)
    flags.sync_flags(con, _swing_series([100.0, 85.0, 95.0]), now=T1 + dt.timedelta(hours=1))
    assert con.execute("SELECT status FROM metrics.flags WHERE flag_id = 'k:2025-02:red'").fetchone()[0] == "open"


def test_condition_gone_after_revision_is_kept_and_marked(con):
    flags.sync_flags(con, _swing_series([100.0, 85.0]), now=T0)
    result = flags.sync_flags(con, _swing_series([100.0, 98.0]), now=T1)  # February revised upwards
    assert sorted(result.condition_gone) == ["k:2025-02:red"]
    assert con.execute("SELECT count(*) FROM metrics.flags WHERE NOT condition_present").fetchone()[0] == 1


def test_record_action_errors(con):
    flags.sync_flags(con, _swing_series([100.0, 85.0]), now=T0)
    with pytest.raises(flags.FlagError, match="no flag 'k:2025-09:red'"):
        flags.record_action(con, "k:2025-09:red", "me", "x", "acknowledged")
    with pytest.raises(flags.FlagError, match="status 'done' is not one of open, acknowledged, escalated, resolved, condition cleared"):
        flags.record_action(con, "k:2025-02:red", "me", "x", "done")


def test_export_import_round_trip_adds_nothing_and_new_rows_apply(con, tmp_path):
    flags.sync_flags(con, _swing_series([100.0, 85.0]), now=T0)
    flags.record_action(con, "k:2025-02:red", "analyst", "called the deputy director", "acknowledged", acted_at=T0 + dt.timedelta(hours=2))
    path = tmp_path / "actions.csv"
    assert flags.export_actions(con, path) == 2
    assert flags.import_actions(con, path) == (0, 2)
    with path.open("a", newline="") as handle:
        csv.writer(handle).writerow(["k:2025-02:red", "", "", "", "2026-11-05", "mayor's office", "escalated to the COO", "escalated", ""])
    assert flags.import_actions(con, path) == (1, 2)
    assert flags.import_actions(con, path) == (0, 3)  # importing the same file twice adds nothing
    assert con.execute("SELECT status FROM metrics.flags WHERE flag_id = 'k:2025-02:red'").fetchone()[0] == "escalated"
    assert con.execute("SELECT count(*) FROM metrics.flag_actions").fetchone()[0] == 3


def test_import_with_a_bad_row_names_the_row_and_writes_nothing(con, tmp_path):
    flags.sync_flags(con, _swing_series([100.0, 85.0]), now=T0)
    path = tmp_path / "actions.csv"
    path.write_text("flag_id,acted_at,actor,action,status\n"
                    "k:2025-02:red,2026-11-02 10:00:00,analyst,called,acknowledged\n"
                    "k:2025-02:red,2026-11-03,analyst,fixed,done\n"
                    "k:2031-01:red,2026-11-03,analyst,fixed,resolved\n"
                    "k:2025-02:red,yesterday,,fixed,resolved\n")
    with pytest.raises(ValidationError) as excinfo:
        flags.import_actions(con, path)
    assert [str(p) for p in excinfo.value.problems] == [
        f"{path} line 3: status: 'done' is not one of open, acknowledged, escalated, resolved, condition cleared",
        f"{path} line 4: flag_id: 'k:2031-01:red' is not a flag in the warehouse",
        f"{path} line 5: actor: is required",
        f"{path} line 5: acted_at: 'yesterday' is not a date-time (YYYY-MM-DD HH:MM:SS)",
    ]
    assert con.execute("SELECT count(*) FROM metrics.flag_actions").fetchone()[0] == 1  # the 'raised' only
