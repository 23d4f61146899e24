"""How much of the city the inventory covers, department by department, and the What Works Cities
data-inventory criterion (documented update method, updated in the last 12 months, > 80% of
departments covered, published online)."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from data_inventory.model import Department, Inventory

DEPARTMENT_COVERAGE_TARGET = 0.80  # What Works Cities: the inventory covers more than 80% of departments
REVIEW_WINDOW_DAYS = 365  # ... and was updated in the last 12 months


@dataclass(frozen=True)
class DepartmentCoverage:
    department: "Department"
    datasets: int
    ingested: int  # CityStat lands them (connector other than none)
    automated: int  # update_method automated
    published: int  # publication status published

    @property
    def covered(self) -> bool:
        return self.datasets > 0

    def share(self, count: int) -> float | None:
        return count / self.datasets if self.datasets else None


@dataclass(frozen=True)
class CriterionCheck:
    name: str
    met: bool
    detail: str


def department_coverage(inventory: "Inventory") -> list[DepartmentCoverage]:
    rows = []
    for department in inventory.departments:
        datasets = [d for s in department.systems for d in s.datasets]
        rows.append(
            DepartmentCoverage(
                department=department,
                datasets=len(datasets),
                ingested=sum(d.connector != "none" for d in datasets),
                automated=sum(d.update_method == "automated" for d in datasets),
                published=sum(d.publication.status == "published" for d in datasets),
            )
        )
    return rows


def inventory_criterion(inventory: "Inventory", today: dt.date | None = None) -> list[CriterionCheck]:
    """The four parts of the What Works Cities data-inventory criterion (3 of 4 meets it)."""
    today = today or dt.date.today()
    rows = department_coverage(inventory)
    refs = list(inventory.datasets())
    covered = sum(r.covered for r in rows)
    covered_share = covered / len(rows) if rows else 0.0
    updated = dt.date.fromisoformat(inventory.updated)
    age_days = (today - updated).days
    portal = inventory.city.open_data_portal
    published = sum(r.dataset.publication.status == "published" for r in refs)
    return [
        CriterionCheck(
            "documented update method",
            all(r.dataset.update_method for r in refs) and bool(refs),
            f"{len(refs)}/{len(refs)} datasets say automated or manual",
        ),
        CriterionCheck(
            "updated in the last 12 months",
            age_days <= REVIEW_WINDOW_DAYS,
            f"last reviewed {inventory.updated} ({age_days} days ago)",
        ),
        CriterionCheck(
            "covers more than 80% of departments",
            covered_share > DEPARTMENT_COVERAGE_TARGET,
            f"{covered}/{len(rows)} departments have at least one dataset ({covered_share:.0%})",
        ),
        CriterionCheck(
            "published online",
            bool(portal),
            (f"catalog published as {portal.rstrip('/')}/data.json (`citystat inventory export-dcat`)" if portal else "no city.open_data_portal to publish the catalog on")
            + f"; {published}/{len(refs)} datasets published",
        ),
    ]
