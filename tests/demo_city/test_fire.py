"""Fire CAD at scale 0.5: response timelines by priority and station."""
from __future__ import annotations

import pandas as pd
import pytest
from systems_a_support import STORES, make_ctx, query, run_systems

from demo_city.systems import fire

TIMES = ["alarm_time", "dispatch_time", "enroute_time", "arrival_time", "cleared_time"]


@pytest.fixture(scope="module")
def incidents(tmp_path_factory):
    ctx = run_systems(make_ctx(tmp_path_factory.mktemp("fire"), scale=0.5, clean=True), fire)
    df = query(ctx.out / STORES["fire_cad"], "SELECT * FROM incidents")
    for column in TIMES:
        df[column] = pd.to_datetime(df[column])
    df["turnout"] = (df.enroute_time - df.dispatch_time).dt.total_seconds()
    df["travel"] = (df.arrival_time - df.enroute_time).dt.total_seconds() / 60
    return df, query(ctx.out / STORES["fire_cad"], "SELECT * FROM stations")


def test_volume_and_mix(incidents):
    df, stations = incidents
    assert 6_500 < len(df) < 8_500  # ~15k at scale 1
    mix = df.incident_type.value_counts(normalize=True)
    assert mix.idxmax() == "medical" and 0.5 < mix["medical"] < 0.7
    assert set(df.station_id) == set(stations.station_id)
    assert (df.merge(stations, on="station_id").district_x == df.merge(stations, on="station_id").district_y).all()


def test_timeline_is_ordered_and_cancelled_runs_never_arrive(incidents):
    df, _ = incidents
    arrived = df.dropna(subset=["arrival_time"])
    for earlier, later in zip(TIMES, TIMES[1:]):
        assert (arrived[later] >= arrived[earlier]).all(), (earlier, later)
    cancelled = df[df.arrival_time.isna() & df.cleared_time.notna()]
    assert 0.02 < len(cancelled) / len(df) < 0.08
    assert (cancelled.cleared_time > cancelled.enroute_time).all()
    updated = pd.to_datetime(df.updated_at)
    assert (updated == df[TIMES].max(axis=1)).all()


def test_turnout_and_travel_by_priority_and_station(incidents):
    df, _ = incidents
    by_priority = df.groupby("priority")[["turnout", "travel"]].median()
    assert by_priority.turnout.between(55, 95).all()
    assert by_priority.turnout[1] < by_priority.turnout[2] < by_priority.turnout[3]
    assert by_priority.travel.between(4, 6.5).all()
    assert 4 < df.travel.median() < 6
    by_station = df.groupby("station_id")[["turnout", "travel"]].median()
    assert by_station.turnout.idxmax() == "STA-07"
    assert by_station.travel.idxmax() == "STA-11"
    night = df.alarm_time.dt.hour < 6
    assert df.turnout[night].median() > df.turnout[~night].median() + 8
