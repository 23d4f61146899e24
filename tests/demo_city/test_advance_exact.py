"""advance(N days) after generate(as_of X) gives exactly the systems a generate(as_of X+N) would have.

This is the strongest form of "advance adds data without changing history": each system's state is
its plan cut at as_of, so cutting later must equal cutting earlier and then moving on.
"""
from __future__ import annotations

import datetime as dt

import pytest
from systems_a_support import CE_DROP, STORES, dump_sqlite, fingerprint, make_ctx, run_systems

from demo_city.core import history_start
from demo_city.systems import code_enforcement, crm311, fire, public_works

EARLY, LATE = dt.date(2026, 8, 20), dt.date(2026, 10, 31)  # mid-month to month end, across two month turns
START = history_start(EARLY)
SQLITE_SYSTEMS = (crm311, public_works, fire)


@pytest.mark.parametrize("clean", [False, True], ids=["with_defects", "clean"])
def test_sqlite_stores_after_advance_equal_a_longer_generation(tmp_path, clean):
    longer = run_systems(make_ctx(tmp_path / "longer", scale=0.1, as_of=LATE, clean=clean, start=START), *SQLITE_SYSTEMS)
    stepped = run_systems(make_ctx(tmp_path / "stepped", scale=0.1, as_of=EARLY, clean=clean, start=START), *SQLITE_SYSTEMS)
    before = dump_sqlite(stepped.out / STORES["crm311"])["requests"]
    stepped = run_systems(stepped, *SQLITE_SYSTEMS, advance_to=LATE - dt.timedelta(days=40))
    stepped = run_systems(stepped, *SQLITE_SYSTEMS, advance_to=LATE)  # two steps: 32 days, then 40
    for system, path in STORES.items():
        assert dump_sqlite(stepped.out / path) == dump_sqlite(longer.out / path), system
    assert len(dump_sqlite(stepped.out / STORES["crm311"])["requests"]) > len(before)
    assert stepped.defects.to_json() == longer.defects.to_json()
    assert stepped.row_counts == longer.row_counts


def test_code_enforcement_drops_after_advance_equal_a_longer_generation(tmp_path):
    longer = run_systems(make_ctx(tmp_path / "longer", as_of=LATE, clean=True, start=START), code_enforcement)
    stepped = run_systems(make_ctx(tmp_path / "stepped", as_of=EARLY, clean=True, start=START), code_enforcement)
    existing = fingerprint(stepped.out / CE_DROP)
    stepped = run_systems(stepped, code_enforcement, advance_to=LATE)
    after = fingerprint(stepped.out / CE_DROP)
    assert {name: after[name] for name in existing} == existing
    assert after == fingerprint(longer.out / CE_DROP)


def test_advance_refuses_to_rewrite_an_existing_export(tmp_path):
    ctx = run_systems(make_ctx(tmp_path / "city", as_of=EARLY, clean=True), code_enforcement)
    ctx.as_of -= dt.timedelta(days=1)  # a confused caller replaying a day that was already exported
    with pytest.raises(FileExistsError, match="never rewritten"):
        run_systems(ctx, code_enforcement, advance_to=EARLY)
