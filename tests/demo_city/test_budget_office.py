"""Peer-city spending reference: shape, and Riverton's fleet spending per resident far above its peers."""
from __future__ import annotations

import pandas as pd
import pytest
from systems_b_support import digests, generate, make_ctx

from demo_city.reference import OUT_OF_LINE_FUNCTION, PEER_CITIES, PEER_FUNCTIONS
from demo_city.systems import budget_office, finance


@pytest.fixture(scope="module")
def city(tmp_path_factory):
    return generate(make_ctx(tmp_path_factory.mktemp("city"), clean=True), finance, budget_office)


def peers(ctx) -> pd.DataFrame:
    return pd.read_csv(ctx.out / "reference" / "peer_city_spending.csv")


def test_peer_cities_by_function_for_the_last_three_completed_years(city):
    df = peers(city)
    assert list(df.columns) == budget_office.COLUMNS
    assert sorted(df["fiscal_year"].unique()) == [2024, 2025, 2026]  # as of 2026-10-31, FY2027 is under way
    assert set(df["city"]) == {c for c, _, _ in PEER_CITIES} and set(df["function"]) == set(PEER_FUNCTIONS)
    assert len(df) == len(PEER_CITIES) * 3 * len(PEER_FUNCTIONS) == city.row_counts["omb_reference.peer_city_spending"]
    assert "Riverton" not in set(df["city"])
    assert ((df["spending"] / df["population"] - df["per_capita"]).abs() < 0.01 * df["per_capita"]).all()


def test_riverton_fleet_spending_per_resident_is_far_above_peers_and_the_rest_in_range(city):
    files = sorted((city.out / "drops" / "finance").glob("gl_expenditures_*.csv"))
    ledger = pd.concat([pd.read_csv(f, usecols=["fiscal_year", "department_code", "amount"]) for f in files])
    riverton = ledger.groupby(["fiscal_year", "department_code"])["amount"].sum() / city.population
    for (fy, function), group in peers(city).groupby(["fiscal_year", "function"]):
        ours = riverton[(fy, function)]
        if function == OUT_OF_LINE_FUNCTION:
            assert 2.5 <= ours / group["per_capita"].median() <= 3.0, (fy, ours)
        else:
            assert group["per_capita"].min() <= ours <= group["per_capita"].max(), (fy, function)


def test_same_seed_same_bytes_other_seed_differs(city, tmp_path):
    file = "reference/peer_city_spending.csv"
    again = generate(make_ctx(tmp_path / "again", clean=True), finance, budget_office)
    assert digests(again.out)[file] == digests(city.out)[file]
    other = generate(make_ctx(tmp_path / "other", seed=8, clean=True), budget_office)
    assert digests(other.out)[file] != digests(city.out)[file]
