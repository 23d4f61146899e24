"""Peer benchmarks: Riverton's per-resident spending by function against comparable cities (Jackson, MS).

Method, per function and fiscal year, over the peer cities only (Riverton is not part of its own yardstick):

* ``robust_z = (riverton - median) / (1.4826 x MAD)``, MAD = median absolute deviation of the peers from their
  median; 1.4826 makes it comparable to a standard deviation for normally spread data (Iglewicz & Hoaglin's
  modified z-score). When MAD is 0 (half the peers spend the same) the mean absolute deviation x 1.2533 is used;
  when every peer spends exactly the same, any difference is infinitely unusual (z = +/-inf).
* ``flag``: ``above peers`` when robust_z > 3.5 (Iglewicz & Hoaglin's outlier cut-off), ``below peers`` when
  robust_z < -3.5. The median and MAD are not moved by one extreme peer, which a mean and standard deviation
  would be with eight cities.
* ``percentile_rank``: the share of peers spending less per resident (ties count half), 0-100; shown beside the
  z-score for readers, not used to flag (with eight peers it cannot tell "highest" from "far above the rest").
* Fewer than 3 peers with a figure: no z-score, no flag.
"""
from __future__ import annotations

import math
import statistics

import duckdb
import pandas as pd

from citystat.warehouse import read, require

PEER_MART = "marts.fct_peer_city_spending"
PEER_COLUMNS = ("city", "fiscal_year", "function_code", "population", "spending", "per_capita", "is_riverton")
Z_THRESHOLD = 3.5
MAD_SCALE = 1.4826
MEAN_AD_SCALE = 1.2533
MIN_PEERS = 3
ABOVE, BELOW = "above peers", "below peers"

BENCHMARK_COLUMNS = [
    "function_code", "fiscal_year", "riverton_spending", "riverton_population", "riverton_per_capita", "peer_count",
    "peer_median_per_capita", "peer_mad_per_capita", "peer_min_per_capita", "peer_max_per_capita",
    "ratio_to_peer_median", "robust_z", "percentile_rank", "above_peer_max", "flag",
    "excess_over_peer_median", "method", "explanation",
]

COLUMN_DOCS = {
    "function_code": "function compared (a department code: pol, fire, pw, parks, san, wat, lib, hs, hlth, fleet)",
    "fiscal_year": "fiscal year (July-June, named by its end year)",
    "riverton_spending": "Riverton's ledger spending on the function in the year (USD)",
    "riverton_population": "Riverton's population used for per-resident figures",
    "riverton_per_capita": "Riverton's spending per resident (USD)",
    "peer_count": "peer cities with a figure for the function and year",
    "peer_median_per_capita": "median of the peers' spending per resident",
    "peer_mad_per_capita": "median absolute deviation of the peers' spending per resident from their median",
    "peer_min_per_capita": "lowest peer spending per resident",
    "peer_max_per_capita": "highest peer spending per resident",
    "ratio_to_peer_median": "riverton_per_capita / peer_median_per_capita (2.0 = twice the typical peer)",
    "robust_z": "(riverton - peer median) / (1.4826 x MAD); mean absolute deviation x 1.2533 when MAD is 0",
    "percentile_rank": "share of peers spending less per resident, ties counting half (0-100)",
    "above_peer_max": "Riverton spends more per resident than every peer",
    "flag": "'above peers' when robust_z > 3.5, 'below peers' when robust_z < -3.5, else empty",
    "excess_over_peer_median": "(riverton - peer median) per resident x Riverton's population: spending above a typical peer (USD)",
    "method": "the flagging rule applied",
    "explanation": "one sentence for readers",
}


def robust_z(value: float, peers: list[float]) -> float | None:
    """Modified z-score of ``value`` against ``peers`` (median / MAD); None with fewer than MIN_PEERS peers."""
    if len(peers) < MIN_PEERS:
        return None
    median = statistics.median(peers)
    deviations = [abs(p - median) for p in peers]
    mad = statistics.median(deviations)
    if mad > 0:
        spread = MAD_SCALE * mad
    else:
        mean_ad = sum(deviations) / len(deviations)
        spread = MEAN_AD_SCALE * mean_ad
    if spread == 0:
        return 0.0 if value == median else math.copysign(math.inf, value - median)
    return (value - median) / spread


def percentile_rank(value: float, peers: list[float]) -> float | None:
    """Share of peers below ``value`` (ties count half), 0-100."""
    if not peers:
        return None
    below = sum(1 for p in peers if p < value)
    ties = sum(1 for p in peers if p == value)
    return 100.0 * (below + ties / 2) / len(peers)


def flag_for(z: float | None, threshold: float = Z_THRESHOLD) -> str | None:
    if z is None:
        return None
    if z > threshold:
        return ABOVE
    if z < -threshold:
        return BELOW
    return None


def _explain(row: dict) -> str:
    if row["peer_count"] < MIN_PEERS:
        return f"only {row['peer_count']} peer(s) report {row['function_code']} for FY{row['fiscal_year']}: not compared"
    text = (f"Riverton spends ${row['riverton_per_capita']:,.2f} per resident on {row['function_code']} in FY{row['fiscal_year']}, "
            f"{row['ratio_to_peer_median']:.2f}x the peer median (${row['peer_median_per_capita']:,.2f}; {row['peer_count']} peers, "
            f"range ${row['peer_min_per_capita']:,.2f}-${row['peer_max_per_capita']:,.2f}); robust z {row['robust_z']:+.1f}")
    if row["flag"] == ABOVE:
        return text + f" > {Z_THRESHOLD}: disproportionate, ${row['excess_over_peer_median']:,.0f} above a typical peer"
    if row["flag"] == BELOW:
        return text + f" < -{Z_THRESHOLD}: far below peers"
    return text + ": within the peer range"


def benchmark(spending: pd.DataFrame, threshold: float = Z_THRESHOLD) -> pd.DataFrame:
    """One row per function and fiscal year where Riverton has a figure.

    ``spending``: ``city, fiscal_year, function_code, population, spending, per_capita, is_riverton`` (the shape of
    marts.fct_peer_city_spending).
    """
    rows = []
    data = spending.dropna(subset=["per_capita"])
    for (function, year), group in data.groupby(["function_code", "fiscal_year"], sort=True):
        own = group[group["is_riverton"].astype(bool)]
        if own.empty:
            continue
        own = own.iloc[0]
        peers = [float(p) for p in group.loc[~group["is_riverton"].astype(bool), "per_capita"]]
        value = float(own["per_capita"])
        median = statistics.median(peers) if peers else None
        z = robust_z(value, peers)
        row = {
            "function_code": function, "fiscal_year": int(year),
            "riverton_spending": float(own["spending"]), "riverton_population": int(own["population"]),
            "riverton_per_capita": value, "peer_count": len(peers),
            "peer_median_per_capita": median,
            "peer_mad_per_capita": statistics.median([abs(p - median) for p in peers]) if peers else None,
            "peer_min_per_capita": min(peers) if peers else None, "peer_max_per_capita": max(peers) if peers else None,
            "ratio_to_peer_median": value / median if median else None,
            "robust_z": z, "percentile_rank": percentile_rank(value, peers),
            "above_peer_max": bool(peers) and value > max(peers),
            "flag": flag_for(z, threshold),
            "excess_over_peer_median": (value - median) * float(own["population"]) if median is not None else None,
            "method": f"robust z-score (median/MAD) against the peer cities; flagged beyond +/-{threshold}",
        }
        row["explanation"] = _explain(row)
        rows.append(row)
    return pd.DataFrame(rows, columns=BENCHMARK_COLUMNS)


def read_peer_spending(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    require(con, PEER_MART, PEER_COLUMNS, "metrics.peer_benchmarks")
    return read(con, f"SELECT {', '.join(PEER_COLUMNS)} FROM {PEER_MART}")


def peer_benchmarks(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """metrics.peer_benchmarks."""
    return benchmark(read_peer_spending(con))


def latest_ratios(benchmarks: pd.DataFrame) -> pd.DataFrame:
    """Each function's latest benchmarked year: ``function_code, fiscal_year, ratio_to_peer_median, flag, explanation``."""
    if benchmarks.empty:
        return benchmarks[["function_code", "fiscal_year", "ratio_to_peer_median", "flag", "explanation"]]
    compared = benchmarks[benchmarks["peer_count"] >= MIN_PEERS]
    latest = compared.sort_values("fiscal_year").groupby("function_code").tail(1)
    return latest[["function_code", "fiscal_year", "ratio_to_peer_median", "flag", "explanation"]].reset_index(drop=True)
