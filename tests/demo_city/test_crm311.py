"""311 CRM store at scale 0.2: the patterns metrics will look for, and the status history behind them."""
from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest
from systems_a_support import STORES, make_ctx, query, run_systems

from demo_city.reference import SERVICE_TYPES
from demo_city.systems import crm311

AS_OF = dt.date(2026, 10, 31)


@pytest.fixture(scope="module")
def crm(tmp_path_factory):
    ctx = run_systems(make_ctx(tmp_path_factory.mktemp("crm"), scale=0.2, clean=True), crm311)
    path = ctx.out / STORES["crm311"]
    requests = query(path, "SELECT * FROM requests")
    for column in ("requested_datetime", "updated_datetime", "expected_datetime", "closed_datetime"):
        # naive local wall time: what a resident saw on the clock
        requests[column.replace("_datetime", "")] = pd.to_datetime(requests[column].str.slice(0, 19))
    return path, requests


def on_time_share(requests: pd.DataFrame) -> float:
    due = requests[requests.expected <= pd.Timestamp(AS_OF)]
    return float(((due.status == "closed") & (due.updated <= due.expected)).mean())


def test_public_works_on_time_climbs_from_57_to_95_percent(crm):
    _, sr = crm
    pw = sr[sr.agency_responsible == "pw"]
    early = pw[pw.requested < "2024-01-01"]
    late = pw[pw.requested >= "2026-04-01"]
    assert on_time_share(early) < 0.65
    assert on_time_share(late) > 0.9


def test_other_departments_are_roughly_stable_at_their_own_levels(crm):
    _, sr = crm
    levels = {}
    for dept, rows in sr[sr.agency_responsible != "pw"].groupby("agency_responsible"):
        first = on_time_share(rows[rows.requested < "2024-07-01"])
        last = on_time_share(rows[(rows.requested >= "2025-07-01") & (rows.requested < "2026-07-01")])
        assert abs(first - last) < 0.08, dept
        levels[dept] = last
    assert max(levels.values()) - min(levels.values()) > 0.15  # various levels, not one number


def test_seasonality_and_weekday_effects(crm):
    _, sr = crm
    month = sr.requested.dt.month
    per = sr.groupby([sr.service_code, month]).size().unstack(fill_value=0)
    assert per.loc["POTHOLE", [2, 3, 4]].mean() > 2 * per.loc["POTHOLE", [7, 8, 9]].mean()
    assert per.loc["NOISE", [6, 7, 8]].mean() > 1.8 * per.loc["NOISE", [12, 1, 2]].mean()
    daily = sr[sr.service_code != "NOISE"].groupby(sr.requested.dt.normalize()).size()
    weekend = daily[daily.index.day_of_week >= 5].mean()
    weekday = daily[daily.index.day_of_week < 5].mean()
    assert weekend < 0.8 * weekday


def test_expected_datetime_is_the_service_level_after_the_request(crm):
    _, sr = crm
    sla_days = sr.service_code.map({code: t[2] for code, t in SERVICE_TYPES.items()})
    assert ((sr.expected - sr.requested) == pd.to_timedelta(sla_days, unit="D")).all()


def test_timestamps_carry_the_city_offset_of_the_moment(crm):
    _, sr = crm
    summer = sr[sr.requested.dt.month == 7].requested_datetime
    winter = sr[sr.requested.dt.month == 1].requested_datetime
    assert summer.str.endswith("-04:00").all() and winter.str.endswith("-05:00").all()


def test_open_requests_at_as_of_are_mostly_recent(crm):
    _, sr = crm
    open_ = sr[sr.status == "open"]
    age = (pd.Timestamp(AS_OF) + pd.Timedelta(days=1) - open_.requested).dt.days
    assert 0 < len(open_) < 0.03 * len(sr)
    assert age.median() < 30
    assert (age > 90).any()  # and a few forgotten for months, as in every CRM
    assert open_.closed_datetime.isna().all()
    closed = sr[sr.status == "closed"]
    assert (closed.closed_datetime == closed.updated_datetime).all()


def test_status_history_leads_to_the_current_state(crm):
    path, sr = crm
    updates = query(path, "SELECT * FROM request_updates")
    updates["at"] = pd.to_datetime(updates.updated_datetime, format="ISO8601", utc=True)
    last = updates.sort_values(["at", "status"]).groupby("service_request_id").tail(1).set_index("service_request_id")
    current = sr.set_index("service_request_id")
    assert set(last.index) == set(current.index)
    assert (last.updated_datetime == current.updated_datetime.loc[last.index]).all()
    assert (last.status == current.status.loc[last.index]).all()
    received = updates.groupby("service_request_id").updated_datetime.min()
    assert (received == current.requested_datetime.loc[received.index]).all()
    assert len(updates) > 2 * len(sr)  # received, usually assigned, closed
    assert updates.groupby("service_request_id").status.apply(lambda s: (s == "closed").sum()).max() == 1


def test_repeat_requests_at_the_same_address_within_30_days(crm):
    _, sr = crm
    ordered = sr.sort_values("requested")
    gap = ordered.groupby(["address_id", "service_code"]).requested.diff()
    share = (gap <= pd.Timedelta(days=30)).mean()
    assert 0.03 < share < 0.15


def test_caller_contact_is_pii_and_optional(crm):
    _, sr = crm
    with_contact = sr.first_name.notna().mean()
    assert 0.5 < with_contact < 0.7
    assert sr.phone.dropna().str.fullmatch(r"\d{3}-555-01\d{2}").all()  # the block reserved for fiction
    assert sr.email.dropna().str.endswith((".com", ".net", ".org")).all()
    assert sr.loc[sr.first_name.isna(), ["last_name", "phone", "email"]].isna().all().all()
