"""Finance ERP drops: budget, ledger and positions — determinism, defect ground truth, budget reconciliation, advance."""
from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest
from systems_b_support import EMAIL, PHONE, advance, digests, generate, make_ctx, manifest

from demo_city.reference import PROGRAMS, VENDORS
from demo_city.systems import finance

DATASET = "fin_erp.expenditures"
DEFECT_CLASSES = {"duplicate", "negative_amount", "orphan_key", "invalid_code", "future_date", "pii_in_free_text"}


@pytest.fixture(scope="module")
def dirty(tmp_path_factory):
    return generate(make_ctx(tmp_path_factory.mktemp("dirty")), finance)


@pytest.fixture(scope="module")
def clean(tmp_path_factory):
    return generate(make_ctx(tmp_path_factory.mktemp("clean"), clean=True), finance)


def drops(ctx, pattern: str) -> pd.DataFrame:
    files = sorted((ctx.out / "drops" / "finance").glob(pattern))
    assert files, f"no {pattern} in {ctx.out}"
    return pd.concat([pd.read_csv(f, dtype=str, keep_default_na=False).assign(_file=f.name) for f in files], ignore_index=True)


def defects_found(ledger: pd.DataFrame, as_of: dt.date) -> dict[str, set[str]]:
    """Every ledger line that has each defect, by predicates independent of the generator."""
    amount = ledger["amount"].astype(float)
    reversal = ledger["description"].str.startswith("Reversal of GL-")
    counts = ledger["ledger_id"].value_counts()
    vendor = ledger["vendor_id"]
    found = {
        "duplicate": set(counts[counts > 1].index),
        "negative_amount": ledger.loc[((amount < 0) & ~reversal) | (amount > 1e8), "ledger_id"],
        "orphan_key": ledger.loc[(vendor != "") & ~vendor.isin([v for v, _ in VENDORS]), "ledger_id"],
        "invalid_code": ledger.loc[~ledger["program_code"].isin(list(PROGRAMS)), "ledger_id"],
        "future_date": ledger.loc[ledger["posting_date"] > as_of.isoformat(), "ledger_id"],
        "pii_in_free_text": ledger.loc[ledger["description"].str.contains(EMAIL) | ledger["description"].str.contains(PHONE), "ledger_id"],
    }
    return {cls: set(ids) for cls, ids in found.items() if len(ids)}


def test_manifest_lists_exactly_the_defective_ledger_lines(dirty):
    ledger = drops(dirty, "gl_expenditures_*.csv")
    found = defects_found(ledger, dirty.as_of)
    assert set(found) == DEFECT_CLASSES
    assert found == manifest(dirty, DATASET)
    duplicated = ledger[ledger["ledger_id"].isin(found["duplicate"])]
    assert (duplicated.groupby("ledger_id").size() == 2).all()
    assert len(duplicated.drop_duplicates()) == len(found["duplicate"])  # posted twice, identical


def test_clean_ledger_has_none_of_the_defects(clean):
    ledger = drops(clean, "gl_expenditures_*.csv")
    assert defects_found(ledger, clean.as_of) == {}
    assert manifest(clean, DATASET) == {}
    assert (ledger["amount"].astype(float) < 0).any(), "legitimate reversals stay in clean data"


def test_same_seed_same_bytes_other_seed_differs(dirty, tmp_path):
    again = generate(make_ctx(tmp_path / "again"), finance)
    assert digests(again.out) == digests(dirty.out)
    other = generate(make_ctx(tmp_path / "other", seed=8), finance)
    assert digests(other.out)["drops/finance/gl_expenditures_2024-01.csv"] != digests(dirty.out)["drops/finance/gl_expenditures_2024-01.csv"]


def test_volume_follows_scale(clean):
    ledger = drops(clean, "gl_expenditures_*.csv")
    months = ledger["_file"].nunique()
    assert months == 40  # July 2023 .. October 2026
    expected = finance.LEDGER_LINES_PER_MONTH * clean.scale * months
    assert 0.9 * expected < len(ledger) < 1.15 * expected
    assert clean.row_counts["fin_erp.expenditures"] == len(ledger)


def test_spending_by_programme_reconciles_with_budget(clean):
    ledger = drops(clean, "gl_expenditures_*.csv")
    budget = drops(clean, "budget_FY*.csv")
    assert sorted(budget["_file"].unique()) == [f"budget_FY{y}.csv" for y in (2024, 2025, 2026, 2027)]
    assert set(budget["program_code"]) == set(PROGRAMS)
    actual = ledger.assign(amount=ledger["amount"].astype(float)).groupby(["fiscal_year", "program_code"])["amount"].sum()
    revised = budget.assign(revised=budget["revised_amount"].astype(float)).groupby(["fiscal_year", "program_code"])["revised"].sum()
    execution = (actual / revised).loc[["2024", "2025", "2026"]]  # completed fiscal years
    assert len(execution) == 3 * len(PROGRAMS)
    assert execution.between(0.90, 1.05).all(), execution[~execution.between(0.90, 1.05)]


def test_reversals_undo_an_earlier_line_of_the_month(clean):
    ledger = drops(clean, "gl_expenditures_*.csv")
    reversals = ledger[ledger["description"].str.startswith("Reversal of ")]
    assert len(reversals) > 0
    by_id = ledger.set_index("ledger_id")
    for _, row in reversals.iterrows():
        original = by_id.loc[row["description"].split()[2]]
        assert float(original["amount"]) == -float(row["amount"])
        assert original["_file"] == row["_file"]


def test_vendor_on_a_share_of_lines_and_resurfacing_contracts_paid_to_paving_contractors(clean):
    ledger = drops(clean, "gl_expenditures_*.csv")
    share = (ledger["vendor_id"] != "").mean()
    assert 0.1 < share < 0.5
    paving = ledger[(ledger["program_code"] == "pw_resurfacing") & (ledger["account"] == "5300") & (ledger["vendor_id"] != "")]
    assert set(paving["vendor_id"]) == {"VND-0001", "VND-0002", "VND-0003"}


def test_positions_snapshots(clean):
    positions = drops(clean, "positions_*.csv")
    per_snapshot = positions.groupby("snapshot_date")["position_id"].apply(frozenset)
    assert len(per_snapshot) == 40 and per_snapshot.nunique() == 1  # same roster every month
    filled = positions["status"] == "filled"
    assert ((positions["employee_name"] != "") == filled).all()
    assert ((positions["vacant_since"] != "") == ~filled).all()
    assert 0.02 < (~filled).mean() < 0.2
    vacant = positions[~filled]
    days_vacant = pd.to_datetime(vacant["snapshot_date"]) - pd.to_datetime(vacant["vacant_since"])
    assert (days_vacant > pd.Timedelta(days=365)).any(), "some positions stay vacant for over a year"
    assert set(positions["department_code"]) == {d for d, _ in PROGRAMS.values()}


def test_advance_appends_closed_months_without_touching_history(tmp_path):
    start = dt.date(2022, 7, 1)
    ctx = generate(make_ctx(tmp_path / "grown", as_of=dt.date(2026, 6, 20), start=start), finance)
    before = digests(ctx.out)
    advance(ctx, dt.date(2026, 8, 5), finance)
    after = digests(ctx.out)
    assert {k: after[k] for k in before} == before, "existing files are never rewritten"
    assert set(after) - set(before) == {
        "drops/finance/budget_FY2027.csv",
        "drops/finance/gl_expenditures_2026-06.csv", "drops/finance/positions_2026-06.csv",
        "drops/finance/gl_expenditures_2026-07.csv", "drops/finance/positions_2026-07.csv",
    }
    direct = generate(make_ctx(tmp_path / "direct", as_of=dt.date(2026, 8, 5), start=start), finance)
    assert digests(direct.out) == after
    assert manifest(direct, DATASET) == manifest(ctx, DATASET)
