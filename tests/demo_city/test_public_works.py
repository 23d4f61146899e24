"""Public Works MMS at scale 0.2: work orders follow the 311 requests they came from; crews and assets line up."""
from __future__ import annotations

import pandas as pd
import pytest
from systems_a_support import STORES, make_ctx, query, run_systems

from demo_city.systems import crm311, public_works

PW_CODES = {"POTHOLE": "pothole", "STREETLIGHT": "streetlight", "SIGN": "sign", "SIDEWALK": "sidewalk"}


@pytest.fixture(scope="module")
def stores(tmp_path_factory):
    ctx = run_systems(make_ctx(tmp_path_factory.mktemp("pw"), scale=0.2, clean=True), crm311, public_works)
    sr = query(ctx.out / STORES["crm311"], "SELECT * FROM requests")
    for column in ("requested_datetime", "updated_datetime", "closed_datetime"):
        sr[column] = pd.to_datetime(sr[column].str.slice(0, 19))
    mms = ctx.out / STORES["pw_mms"]
    wo = query(mms, "SELECT * FROM work_orders")
    for column in ("created_at", "completed_at", "updated_at"):
        wo[column] = pd.to_datetime(wo[column])
    return sr, wo, query(mms, "SELECT * FROM crews"), query(mms, "SELECT * FROM assets")


def test_work_orders_come_from_public_works_requests(stores):
    sr, wo, _, _ = stores
    linked = wo.dropna(subset=["service_request_id"]).merge(sr, on="service_request_id", how="left", validate="one_to_one")
    assert linked.service_code.notna().all(), "every linked order points at an existing request"
    assert (linked.service_code.map(PW_CODES) == linked.work_type).all()
    pw_requests = sr[sr.service_code.isin(list(PW_CODES))]
    assert 0.75 < len(linked) / len(pw_requests) < 0.95
    assert 0.05 < wo.service_request_id.isna().mean() < 0.25  # crews' own proactive orders
    assert (linked.created_at >= linked.requested_datetime).all()
    assert (linked.created_at - linked.requested_datetime).max() <= pd.Timedelta(hours=8)


def test_orders_finish_when_their_request_closes(stores):
    sr, wo, _, _ = stores
    linked = wo.dropna(subset=["service_request_id"]).merge(sr, on="service_request_id", suffixes=("_wo", "_sr"))
    done = linked[linked.status_wo == "completed"]
    assert len(done) and (done.status_sr == "closed").all()
    lag = done.updated_datetime - done.completed_at
    assert (lag >= pd.Timedelta(0)).all() and (lag <= pd.Timedelta(minutes=20)).all()
    cancelled = linked[linked.status_wo == "cancelled"]
    assert len(cancelled) and (cancelled.status_notes == "Inspected; no issue found").all()
    assert cancelled.completed_at.isna().all() and (cancelled.material_cost == 0).all()
    still_open = linked[linked.status_wo.isin(["open", "scheduled"])]
    assert len(still_open) and (still_open.status_sr == "open").all()
    assert still_open.labor_hours.isna().all() and still_open.completed_at.isna().all()


def test_on_time_climb_shows_in_work_order_durations(stores):
    _, wo, _, _ = stores
    potholes = wo[(wo.work_type == "pothole") & (wo.status == "completed") & wo.service_request_id.notna()]
    hours = (potholes.completed_at - potholes.created_at).dt.total_seconds() / 3600
    early = hours[potholes.created_at < "2024-01-01"].median()
    late = hours[potholes.created_at >= "2026-04-01"].median()
    assert late < 0.8 * early


def test_crews_and_assets_fit_the_orders(stores):
    _, wo, crews, assets = stores
    assert set(wo.crew_id) <= set(crews.crew_id)
    on = wo.merge(assets, on="asset_id", how="left")
    assert on.asset_type.notna().all()
    expected_asset = on.work_type.map({"pothole": "road_segment", "sidewalk": "road_segment", "streetlight": "streetlight", "sign": "sign"})
    assert (on.asset_type == expected_asset).all()
    district_crews = on.merge(crews, on="crew_id")
    local = district_crews[district_crews.crew_name != "Citywide concrete"]
    assert (local.district_x == local.district_y).all()  # a district's crew works on that district's assets
    assert crews.supervisor_name.str.fullmatch(r"[A-Z][a-z]+ [A-Z][a-z]+").all()


def test_amounts_are_plausible(stores):
    _, wo, _, _ = stores
    done = wo[wo.status == "completed"]
    assert done.material_cost.between(1, 50_000).all()
    assert done.labor_hours.between(0.25, 200).all()
    by_type = done.groupby("work_type").material_cost.median()
    assert by_type["sidewalk"] > 5 * by_type["pothole"]
