"""The state of a contract's street segments on a given day, from their latest reported row.

The paving mart keeps the latest report of each segment; its actual dates say when work started and
ended, so the state on an earlier day D is: completed when ``actual_end <= D``. A completed segment's
PCI after, rework flag and incident counts are final when it completes (they are reported in the
completion row), so outcomes are measured on segments completed by D. Segments still open when the
contract ends are closed out at its end date: their incidents count from then on.
"""
from __future__ import annotations

import pandas as pd

REPORT_CADENCE_DAYS = 7  # weekly reports: a segment missing from one is a segment that left the reports


def season_date(start: pd.Timestamp, end: pd.Timestamp, share: float) -> pd.Timestamp:
    """The day ``share`` of the way through a contract's season (the rule the portal uses for due dates)."""
    return start + pd.Timedelta(days=round((end - start).days * share))


def state_on(segments: pd.DataFrame, contracts: pd.DataFrame, as_of: pd.Timestamp | pd.Series) -> pd.DataFrame:
    """One row per segment with its state on ``as_of`` (one day for all, or a Series by contract_id).

    Added columns: as_of, end_date, warranty_months, completed, due (scheduled to be finished),
    overdue (due, not completed), on_time, days_late (completed segments; early = 0), closed_out
    (completed, or open when the contract ended), rework (completed with rework reported within the
    warranty window), has_pci (completed with PCI before and after).
    """
    terms = contracts.set_index("contract_id")[["season_year", "end_date", "warranty_months"]]
    out = segments.join(terms, on="contract_id")
    out["as_of"] = out["contract_id"].map(as_of) if isinstance(as_of, pd.Series) else pd.Timestamp(as_of)
    ended = out["actual_end"].notna()
    out["completed"] = ended & (out["actual_end"] <= out["as_of"])
    out["due"] = out["scheduled_end"] <= out["as_of"]
    out["overdue"] = out["due"] & ~out["completed"]
    out["on_time"] = out["completed"] & (out["actual_end"] <= out["scheduled_end"])
    out["days_late"] = (out["actual_end"] - out["scheduled_end"]).dt.days.clip(lower=0).where(out["completed"])
    out["closed_out"] = out["completed"] | (out["as_of"] >= out["end_date"])
    warranty_end = out["actual_end"] + pd.to_timedelta(out["warranty_months"].fillna(0).astype(int) * 30.44, unit="D")
    out["rework"] = out["completed"] & out["rework_required"] & (out["last_report_week"].fillna(out["actual_end"]) <= warranty_end)
    out["has_pci"] = out["completed"] & out["pci_after"].notna() & out["pci_before"].notna()
    return out


def unreported(states: pd.DataFrame, data_through: pd.Timestamp) -> pd.Series:
    """Segments that, by their ``as_of``, had left the weekly reports without a completion row (the reports list a segment every
    week until it completes), e.g. because their completion row was quarantined. They count as not
    completed — the completion is unverified — and are named in the notes."""
    if states.empty:
        return pd.Series(False, index=states.index)
    season_last_report = states.groupby("season_year")["last_report_week"].transform("max").clip(upper=data_through)
    limit = season_last_report.where(season_last_report <= states["as_of"], states["as_of"])  # known on as_of
    return states["actual_end"].isna() & (states["last_report_week"] + pd.Timedelta(days=REPORT_CADENCE_DAYS) <= limit)
