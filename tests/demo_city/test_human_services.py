"""Human Services centre workbooks: defects, the failing and the strong senior centre, costs vs the ledger, advance."""
from __future__ import annotations

import datetime as dt
from collections import defaultdict

import pandas as pd
import pytest
from systems_b_support import advance, digests, generate, make_ctx, manifest, read_sheet

from demo_city.reference import FAILING_SITE, PROGRAMS, SITES, STRONG_PEER_SITE
from demo_city.systems import finance, human_services

DATASET = "hs_centres.centre_monthly"


def rows_of(ctx) -> list[dict]:
    rows = []
    for path in sorted((ctx.out / "drops" / "human_services").glob("centres_*.xlsx")):
        sheet = read_sheet(path, human_services.SHEET)
        assert {r["month"] for r in sheet} == {path.stem.removeprefix("centres_")}
        rows += sheet
    return rows


def defects_found(rows) -> dict[str, set[str]]:
    record = lambda r: f"{r['site_id']}@{r['month']}"  # noqa: E731
    found = {
        "negative_amount": {record(r) for r in rows if r["monthly_cost"] < 0},
        "invalid_code": {record(r) for r in rows if r["program_code"] not in PROGRAMS},
    }
    return {cls: ids for cls, ids in found.items() if ids}


@pytest.fixture(scope="module")
def dirty(tmp_path_factory):
    return generate(make_ctx(tmp_path_factory.mktemp("dirty")), human_services)


@pytest.fixture(scope="module")
def clean(tmp_path_factory):
    return generate(make_ctx(tmp_path_factory.mktemp("clean"), clean=True), finance, human_services)


def test_one_row_per_site_and_month(clean):
    rows = rows_of(clean)
    months = sorted({r["month"] for r in rows})
    assert months[0] == "2023-07" and months[-1] == "2026-10" and len(months) == 40
    assert len(rows) == len(SITES) * 40 == clean.row_counts[DATASET]
    assert all(list(r) == human_services.HEADER for r in rows[:1])


def test_manifest_lists_exactly_the_defective_rows(dirty):
    found = defects_found(rows_of(dirty))
    assert set(found) == {"negative_amount", "invalid_code"}
    assert found == manifest(dirty, DATASET)


def test_clean_workbooks_have_none_of_the_defects(clean):
    assert defects_found(rows_of(clean)) == {}
    assert manifest(clean, DATASET) == {}


def test_failing_site_misses_while_its_neighbour_succeeds_with_spare_capacity(clean):
    by_site = defaultdict(list)
    for r in rows_of(clean):
        by_site[r["site_id"]].append(r)
    failing, strong = by_site[FAILING_SITE], by_site[STRONG_PEER_SITE]
    assert failing[0]["service_area"] == strong[0]["service_area"]
    assert failing[0]["program_code"] == strong[0]["program_code"] == "hs_senior_centres"
    missed = sum(r["outcome_value"] < r["outcome_target"] for r in failing) / len(failing)
    assert missed >= 0.7
    assert all(r["outcome_value"] >= r["outcome_target"] for r in strong)
    assert all(r["enrollment"] <= 0.7 * r["capacity"] for r in strong), "room to take the failing site's participants"
    for site, rows in by_site.items():
        if site not in (FAILING_SITE, STRONG_PEER_SITE):
            assert sum(r["outcome_value"] >= r["outcome_target"] for r in rows) / len(rows) > 0.5, site


def test_site_costs_add_up_to_the_programmes_ledger_spending(clean):
    files = sorted((clean.out / "drops" / "finance").glob("gl_expenditures_*.csv"))
    ledger = pd.concat([pd.read_csv(f, dtype={"amount": float}) for f in files])
    ledger["month"] = ledger["posting_date"].str[:7]
    spent = ledger.groupby(["month", "program_code"])["amount"].sum()
    cost = pd.DataFrame(rows_of(clean)).groupby(["month", "program_code"])["monthly_cost"].sum()
    share = cost / spent.loc[cost.index]
    assert share.between(0.80, 0.90).all(), share[~share.between(0.80, 0.90)]


def test_same_seed_same_bytes_other_seed_differs(dirty, tmp_path):
    again = generate(make_ctx(tmp_path / "again"), human_services)
    assert digests(again.out) == digests(dirty.out)
    other = generate(make_ctx(tmp_path / "other", seed=8), human_services)
    assert set(digests(other.out).values()).isdisjoint(digests(dirty.out).values())


def test_advance_adds_closed_months_only(tmp_path):
    ctx = generate(make_ctx(tmp_path / "grown", as_of=dt.date(2026, 8, 20)), human_services)
    before = digests(ctx.out)
    advance(ctx, dt.date(2026, 10, 31), human_services)
    after = digests(ctx.out)
    assert {k: after[k] for k in before} == before
    assert set(after) - set(before) == {f"drops/human_services/centres_2026-{m}.xlsx" for m in ("08", "09", "10")}
    direct = generate(make_ctx(tmp_path / "direct"), human_services)
    assert digests(direct.out) == after
    assert manifest(direct, DATASET) == manifest(ctx, DATASET)
