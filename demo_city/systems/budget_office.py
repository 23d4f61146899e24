"""Budget office reference file: per-capita spending by function in comparable cities.

``reference/peer_city_spending.csv`` covers reference.PEER_CITIES x the last three completed fiscal
years x reference.PEER_FUNCTIONS. Peers are drawn around Riverton's own expected spending per resident,
so Riverton sits inside the peer range everywhere except the planted function
(reference.OUT_OF_LINE_FUNCTION, fleet), whose peer median is OUT_OF_LINE_RATIO times lower — the
Jackson, MS comparison that finds disproportionate spending. Riverton itself is not in the file.
Written once by ``generate``; a reference file is not rewritten by ``advance``.
"""
from __future__ import annotations

import csv

import numpy as np

from demo_city.core import GenContext, fiscal_year
from demo_city.reference import OUT_OF_LINE_FUNCTION, PEER_CITIES, PEER_FUNCTIONS
from demo_city.systems import finance

SYSTEM = "omb_reference"
DATASET = f"{SYSTEM}.peer_city_spending"
COLUMNS = ["city", "state", "population", "fiscal_year", "function", "spending", "per_capita"]
OUT_OF_LINE_RATIO = 2.75  # Riverton's budget per capita / peer median in the planted function
# Peer spread around the median (median exactly 1 for eight peers): real peers differ by about +-25%
PEER_SPREAD = np.array([0.78, 0.86, 0.93, 0.98, 1.02, 1.08, 1.16, 1.27])
POPULATION_GROWTH = 0.008  # per year, peers
TYPICAL_EXECUTION = sum(finance.EXECUTION_RANGE) / 2  # Riverton's spending / revised budget, on average


def peer_rows(ctx: GenContext) -> list[dict]:
    last_completed = fiscal_year(ctx.as_of) - 1
    rng = ctx.rng("budget_office", "peers")
    # each function gets its own shuffle of the spread, so no peer is cheapest everywhere
    spread = {f: rng.permutation(PEER_SPREAD) * rng.uniform(0.98, 1.02, len(PEER_CITIES)) for f in PEER_FUNCTIONS}
    rows = []
    for fy in range(last_completed - 2, last_completed + 1):
        riverton = finance.department_budget(ctx, fy)
        for k, (city, state, population) in enumerate(PEER_CITIES):
            residents = round(population * (1 + POPULATION_GROWTH) ** (fy - last_completed))
            for function in PEER_FUNCTIONS:
                median = riverton[function] * TYPICAL_EXECUTION / ctx.population
                if function == OUT_OF_LINE_FUNCTION:
                    median /= OUT_OF_LINE_RATIO
                per_capita = round(median * spread[function][k], 2)
                rows.append({"city": city, "state": state, "population": residents, "fiscal_year": fy,
                             "function": function, "spending": int(round(per_capita * residents, -3)),
                             "per_capita": per_capita})
    return rows


def generate(ctx: GenContext) -> None:
    rows = peer_rows(ctx)
    with open(ctx.path("reference", "peer_city_spending.csv"), "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=COLUMNS, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    ctx.count(DATASET, len(rows))


def advance(ctx, first, last) -> None:
    """Reference data is published once; nothing to append."""
