"""Coverage per department and the What Works Cities data-inventory criterion."""
from __future__ import annotations

import datetime as dt

from inventory_helpers import department
from data_inventory import load_inventory
from data_inventory.coverage import department_coverage, inventory_criterion


def test_shipped_inventory_covers_every_department_and_meets_the_criterion():
    inventory = load_inventory()
    rows = {r.department.id: r for r in department_coverage(inventory)}
    assert len(rows) == 22 and all(r.covered for r in rows.values())
    ce = rows["ce"]
    assert (ce.datasets, ce.ingested, ce.automated, ce.published) == (2, 2, 2, 2)
    police = rows["pol"]
    assert police.ingested == 0 and police.share(police.automated) == 0.0
    checks = inventory_criterion(inventory, today=dt.date.fromisoformat(inventory.updated))
    assert all(c.met for c in checks), checks


def test_gaps_and_stale_review_fail_the_criterion(inventory_copy):
    def mutate(d):
        d["updated"] = "2024-01-15"
        d["city"].pop("open_data_portal")
        keep = {"pw", "pol", "lib", "fleet"}
        d["departments"] = [x for x in d["departments"] if x["id"] in keep]
        department(d, "lib")["systems"] = []  # listed, but nothing inventoried yet
        department(d, "fleet")["systems"] = []

    inventory = load_inventory(inventory_copy(mutate))
    rows = {r.department.id: r for r in department_coverage(inventory)}
    assert not rows["lib"].covered and rows["lib"].share(0) is None
    checks = {c.name: c for c in inventory_criterion(inventory, today=dt.date(2026, 11, 23))}
    assert checks["documented update method"].met
    assert not checks["updated in the last 12 months"].met
    assert not checks["covers more than 80% of departments"].met
    assert "2/4 departments" in checks["covers more than 80% of departments"].detail
    assert not checks["published online"].met
