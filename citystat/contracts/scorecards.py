"""Vendor scorecards: each contractor's record season by season and to date, for renewal decisions.

One row per vendor and season with the season's outcomes (latest measurement: the season end, or the
latest report while it runs), the in-season grade and final-quarter share, the performance payments
earned, and the history to that season: seasons contracted, mean score, seasons graded lowest, and a
review flag (docs/contracts_performance.md, "Vendor scorecards"). Results-driven contracts only:
other contracts carry no outcome data.
"""
from __future__ import annotations

import pandas as pd

from citystat.contracts.grading import GradingRules
from citystat.contracts.inputs import ContractData

REVIEW_LOWEST_SEASONS = 2  # graded lowest in this many seasons -> review before renewal
REVIEW_MEAN_SCORE = 70.0  # or a mean in-season score below this (grade C)

SCORECARD_COLUMNS = [
    "vendor_id", "vendor_name", "season_year", "contracts", "regions", "contract_value", "season_complete",
    "planned_miles", "miles_completed", "share_miles_completed", "segments_completed", "on_time_share", "avg_days_late",
    "avg_pci_after", "avg_pci_improvement", "segments_missing_pci", "rework_share", "parking_per_mile",
    "environmental_per_mile", "complaints_per_mile", "performance_pool", "performance_earned", "pool_earned_share",
    "penalties", "amount_payable", "cost_per_mile", "in_season_score", "in_season_grade", "season_rank",
    "vendors_in_season", "lowest_in_season", "final_quarter_miles", "final_quarter_share", "seasons_to_date",
    "mean_score_to_date", "seasons_lowest_to_date", "pool_earned_share_to_date", "review_flag", "review_reason",
]


def _weighted(values: pd.Series, weights: pd.Series):
    ok = values.notna() & weights.notna() & (weights > 0)
    return float((values[ok] * weights[ok]).sum() / weights[ok].sum()) if ok.any() else None


def _ratio(numerator, denominator):
    return float(numerator) / float(denominator) if denominator and pd.notna(denominator) else None


def vendor_scorecards(data: ContractData, performance: pd.DataFrame, grades: pd.DataFrame, allocations: pd.DataFrame,
                      rules: GradingRules = GradingRules()) -> pd.DataFrame:
    """``performance``: contract_performance rows (the ``is_latest`` ones are used); ``grades``: in-season
    grades; ``allocations``: final-quarter allocation."""
    if data.contracts.empty:
        return pd.DataFrame(columns=SCORECARD_COLUMNS)
    latest = performance[performance["is_latest"]].set_index("contract_id")
    graded = grades.set_index("contract_id")
    allocated = allocations.dropna(subset=["contract_id"]).set_index("contract_id")
    rows = []
    for (vendor_id, season), contracts in data.contracts.groupby(["vendor_id", "season_year"], sort=True):
        ids = list(contracts["contract_id"])
        p = latest.reindex(ids)
        g = graded.reindex(ids)
        a = allocated.reindex(ids)
        miles_done = float(p["miles_completed"].fillna(0).sum())
        closed = float(p["miles_closed_out"].fillna(0).sum())
        completed = float(p["segments_completed"].fillna(0).sum())
        pool = float(contracts["performance_pool"].fillna(0).sum())
        earned = float(p["performance_earned"].fillna(0).sum())
        payable = float(p["amount_payable"].fillna(0).sum())
        score = _weighted(g["score"].astype(float), contracts.set_index("contract_id")["planned_miles"].reindex(ids).astype(float))
        complaints = p["complaints"].dropna()
        season_pool = allocations[allocations["season_year"] == season]["pool_miles"]
        rows.append({
            "vendor_id": vendor_id,
            "vendor_name": contracts["vendor_name"].dropna().iloc[0] if contracts["vendor_name"].notna().any() else None,
            "season_year": int(season),
            "contracts": len(ids),
            "regions": ", ".join(sorted(contracts["region"].dropna())),
            "contract_value": float(contracts["total_value"].fillna(0).sum()),
            "season_complete": bool((contracts["end_date"] <= data.data_through).all()),
            "planned_miles": float(contracts["planned_miles"].fillna(0).sum()),
            "miles_completed": round(miles_done, 4),
            "share_miles_completed": _ratio(miles_done, contracts["planned_miles"].fillna(0).sum()),
            "segments_completed": int(completed),
            "on_time_share": _ratio(p["segments_on_time"].fillna(0).sum(), completed),
            "avg_days_late": _ratio(p["days_late_total"].fillna(0).sum(), completed),
            "avg_pci_after": _weighted(p["avg_pci_after"].astype(float), p["pci_readings"].astype(float)),
            "avg_pci_improvement": _weighted(p["avg_pci_improvement"].astype(float), p["pci_readings"].astype(float)),
            "segments_missing_pci": int(p["segments_missing_pci"].fillna(0).sum()),
            "rework_share": _ratio(p["segments_rework"].fillna(0).sum(), completed),
            "parking_per_mile": _ratio(p["parking_incidents"].fillna(0).sum(), closed),
            "environmental_per_mile": _ratio(p["environmental_incidents"].fillna(0).sum(), closed),
            "complaints_per_mile": _ratio(complaints.sum(), closed) if len(complaints) else None,
            "performance_pool": pool,
            "performance_earned": earned,
            "pool_earned_share": _ratio(earned, pool),
            "penalties": float(p["penalties"].fillna(0).sum()),
            "amount_payable": payable,
            "cost_per_mile": _ratio(payable, miles_done),
            "in_season_score": None if score is None else round(score, 1),
            "in_season_grade": rules.letter(score),
            "final_quarter_miles": float(a["allocated_miles"].fillna(0).sum()),
            "final_quarter_share": _ratio(a["allocated_miles"].fillna(0).sum(), season_pool.iloc[0]) if len(season_pool) else None,
        })
    table = pd.DataFrame(rows)
    table = _rank_seasons(table)
    table = _history(table)
    return table[SCORECARD_COLUMNS].sort_values(["season_year", "season_rank", "vendor_id"]).reset_index(drop=True)


def _rank_seasons(table: pd.DataFrame) -> pd.DataFrame:
    """Rank vendors within each season by score (ungraded last; ties by vendor id); flag the lowest graded."""
    table = table.assign(_score=table["in_season_score"].astype(float).fillna(-1.0))
    table = table.sort_values(["season_year", "_score", "vendor_id"], ascending=[True, False, True])
    table["season_rank"] = table.groupby("season_year").cumcount() + 1
    table["vendors_in_season"] = table.groupby("season_year")["vendor_id"].transform("size")
    graded = table[table["in_season_score"].notna()]
    lowest = graded.groupby("season_year")["_score"].transform("min")
    # more than one vendor graded: otherwise "lowest" says nothing
    several = graded.groupby("season_year")["vendor_id"].transform("size") > 1
    table["lowest_in_season"] = False
    table.loc[graded.index, "lowest_in_season"] = (graded["_score"] == lowest) & several
    return table.drop(columns="_score")


def _history(table: pd.DataFrame) -> pd.DataFrame:
    """Cumulative record of each vendor up to and including each season, and the review flag."""
    table = table.sort_values(["vendor_id", "season_year"]).copy()
    by_vendor = table.groupby("vendor_id")
    table["seasons_to_date"] = by_vendor.cumcount() + 1
    scores = table["in_season_score"].astype(float)
    table["mean_score_to_date"] = (scores.fillna(0).groupby(table["vendor_id"]).cumsum()
                                   / scores.notna().astype(int).groupby(table["vendor_id"]).cumsum().replace(0, pd.NA)).round(1)
    table["seasons_lowest_to_date"] = table["lowest_in_season"].astype(int).groupby(table["vendor_id"]).cumsum()
    earned = table["performance_earned"].groupby(table["vendor_id"]).cumsum()
    pool = table["performance_pool"].groupby(table["vendor_id"]).cumsum()
    table["pool_earned_share_to_date"] = (earned / pool.where(pool > 0)).astype(float)
    reasons = []
    for row in table.itertuples():
        why = []
        if row.seasons_lowest_to_date >= REVIEW_LOWEST_SEASONS:
            why.append(f"graded lowest in {row.seasons_lowest_to_date} of {row.seasons_to_date} seasons")
        if pd.notna(row.mean_score_to_date) and row.mean_score_to_date < REVIEW_MEAN_SCORE:
            why.append(f"mean in-season score {row.mean_score_to_date:.1f} < {REVIEW_MEAN_SCORE:.0f}")
        reasons.append("; ".join(why) or None)
    table["review_reason"] = reasons
    table["review_flag"] = table["review_reason"].notna()
    return table
