"""Small hand-made contract data for the rule tests: one contract, its benchmarks and a few segments,
with numbers chosen so every expected value can be worked out by hand."""
from __future__ import annotations

import datetime as dt

import pandas as pd

from citystat.contracts.inputs import ContractData

# The portal's paving benchmarks (demo_city.systems.procurement.PAVING_MILESTONES) on an Apr 1 - Nov 30 season
BENCHMARKS = [
    ("01", "25% of planned segments complete", "2024-06-13", 0.25, 0.15, "progression"),
    ("02", "50% of planned segments complete", "2024-08-13", 0.50, 0.15, "progression"),
    ("03", "75% of planned segments complete", "2024-10-08", 0.75, 0.15, "progression"),
    ("04", "100% of planned segments complete", "2024-11-30", 1.00, 0.15, "progression"),
    ("05", "Pavement quality: no rework required", "2024-11-30", 0.90, 0.20, "quality"),
    ("06", "Parking management: no incidents", "2024-11-30", 0.90, 0.10, "parking"),
    ("07", "Environmental management: no incidents", "2024-11-30", 0.95, 0.10, "environmental"),
]


def contract(contract_id: str = "CTR-2401", vendor_id: str = "VND-0001", **overrides) -> dict:
    row = {
        "contract_id": contract_id, "vendor_id": vendor_id, "vendor_name": f"Vendor {vendor_id[-1]}",
        "contract_type": "results_driven", "season_year": 2024, "region": "north",
        "start_date": "2024-04-01", "end_date": "2024-11-30", "total_value": 1_100_000.0,
        "base_payment": 1_000_000.0, "performance_pool": 100_000.0, "penalty_per_day_late": 1000.0,
        "penalty_per_incident": 500.0, "warranty_months": 24, "planned_miles": 2.0, "status": "completed",
    }
    row.update(overrides)
    return row


def milestones(contract_id: str = "CTR-2401", benchmarks=BENCHMARKS) -> list[dict]:
    return [{"milestone_id": f"MS-{contract_id[4:]}{k}", "contract_id": contract_id, "milestone_name": name,
             "due_date": due, "target_share": target, "weight": weight, "metric": metric}
            for k, name, due, target, weight, metric in benchmarks]


def segment(n: int, contract_id: str = "CTR-2401", *, start: str | None, end: str | None, sched_start: str | None = None,
            sched_end: str | None = None, miles: float = 0.2, pci: tuple = (50, 90), parking: int = 0,
            environmental: int = 0, rework: bool = False, street: str = "Oak St", last_report: str | None = None) -> dict:
    """A segment worked ``start``..``end`` (end None: still open; start None: not started). Scheduled dates
    default to the actual ones."""
    last = last_report or _friday_on_or_after(end or start or sched_end)
    return {
        "segment_id": f"SEG-{contract_id[4:6]}{contract_id[-1]}{n:03d}", "contract_id": contract_id, "street_name": street,
        "length_miles": miles, "status": "completed" if end else "in_progress" if start else "scheduled", "last_report_week": last,
        "scheduled_start": sched_start or start, "scheduled_end": sched_end or end or start,
        "actual_start": start, "actual_end": end, "pci_before": pci[0], "pci_after": pci[1] if end else None,
        "parking_incidents": parking, "environmental_incidents": environmental, "rework_required": "Y" if rework else "N",
    }


def _friday_on_or_after(day: str) -> str:
    d = dt.date.fromisoformat(day)
    return (d + dt.timedelta(days=(4 - d.weekday()) % 7)).isoformat()


def data(contracts, benchmark_rows, segments, requests=None, data_through="2026-10-30") -> ContractData:
    return ContractData.from_frames(contracts, benchmark_rows, segments, requests, data_through)


def graded_example(contract_id="CTR-2401", vendor_id="VND-0001", pci_after=85):
    """The docs' example, graded on 2024-09-30: 8 of 10 due segments completed, each 7 days late,
    PCI after 85, 1 rework in 8, 5 parking and 1 environmental incident on 2.0 mi. Two more segments
    finish in October (after the grading day) with many incidents: they must not count."""
    rows = []
    for n in range(1, 9):
        start = f"2024-0{4 + n // 2}-{10 + n:02d}"
        end = f"2024-0{4 + n // 2}-{15 + n:02d}"
        sched_end = (pd.Timestamp(end) - pd.Timedelta(days=7)).strftime("%Y-%m-%d")
        rows.append(segment(n, contract_id, start=start, end=end, sched_start=start, sched_end=sched_end, miles=0.25,
                            pci=(50, pci_after), rework=n == 3, parking=[0, 2, 0, 1, 0, 2, 0, 0][n - 1],
                            environmental=1 if n == 5 else 0))
    for n in (9, 10):
        rows.append(segment(n, contract_id, start="2024-09-20", end=f"2024-10-0{n - 7}", sched_start="2024-09-10",
                            sched_end="2024-09-20", miles=0.25, pci=(50, 60), parking=9, environmental=9, rework=True))
    return contract(contract_id, vendor_id, planned_miles=2.5), rows
