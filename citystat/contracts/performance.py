"""Contract performance metrics, per contract and period: quality, schedule, incidents, complaints, cost.

``contract_metrics(data, as_of)`` measures every contract on one day (or a day per contract);
``contract_performance(data)`` measures each contract at the end of every month of its season up to the
latest report (cumulative season to date), the table behind ``metrics.contract_performance``.
Definitions: docs/contracts_performance.md, "Metrics".
"""
from __future__ import annotations

import pandas as pd

from citystat.contracts.inputs import HOUSE_NUMBER, ContractData, street_key
from citystat.contracts.payments import contract_totals, payment_lines
from citystat.contracts.segments import state_on, unreported


METRIC_COLUMNS = [
    "planned_segments", "planned_miles", "segments_completed", "miles_completed", "share_segments_completed",
    "share_miles_completed", "segments_due", "progress_vs_plan", "segments_overdue", "segments_on_time", "on_time_share",
    "days_late_total", "avg_days_late", "segments_unreported",
    "pci_readings", "segments_missing_pci", "avg_pci_before", "avg_pci_after", "avg_pci_improvement",
    "segments_rework", "rework_share", "miles_closed_out", "parking_incidents", "environmental_incidents",
    "parking_per_mile", "environmental_per_mile", "share_no_parking", "share_no_environmental",
    "complaints", "complaints_per_mile",
    "performance_pool", "performance_earned", "penalties", "performance_net", "base_earned", "amount_payable",
    "cost_per_mile", "cost_per_pci_point_mile", "notes",
]
CONTRACT_KEYS = ["contract_id", "vendor_id", "vendor_name", "season_year", "region", "status"]


def work_zone_complaints(data: ContractData) -> pd.DataFrame | None:
    """311 requests in active work zones: one row per (segment, request) where the request is of a
    work-zone service type, its address is on the segment's street (house number dropped, case and
    spacing ignored) and it came in while the segment was being worked (actual start to actual end, or
    to its latest report while open). None when no 311 data is available."""
    if data.requests is None:
        return None
    columns = ["segment_id", "service_request_id", "service_code", "requested_at"]
    requests = data.requests.dropna(subset=["address", "requested_at"]).copy()
    requests["street"] = street_key(requests["address"].str.replace(HOUSE_NUMBER, "", regex=True))
    segments = data.segments.dropna(subset=["actual_start", "street_name"]).copy()
    segments["street"] = street_key(segments["street_name"])
    # an open segment is worked up to its latest report (a segment that left the reports: up to its last one)
    segments["window_end"] = segments["actual_end"].fillna(segments["last_report_week"]).fillna(data.data_through)
    pairs = segments[["segment_id", "street", "actual_start", "window_end"]].merge(requests, on="street")
    inside = (pairs["requested_at"] >= pairs["actual_start"]) & (pairs["requested_at"] <= pairs["window_end"])
    return pairs.loc[inside, columns].reset_index(drop=True)


def measured_until(data: ContractData) -> pd.Series:
    """The last day worth measuring each contract on (by contract_id): its end date, or its last completion
    when work finished late, but never past the latest report."""
    last_completion = data.segments.groupby("contract_id")["actual_end"].max()
    ends = data.contracts.set_index("contract_id")["end_date"]
    until = pd.concat([ends, last_completion.reindex(ends.index)], axis=1).max(axis=1)
    return until.clip(upper=data.data_through)


def contract_metrics(data: ContractData, as_of: pd.Timestamp | pd.Series | None = None,
                     lines: pd.DataFrame | None = None, complaints: pd.DataFrame | None = None) -> pd.DataFrame:
    """One row per contract, measured on ``as_of`` (default: ``measured_until``; a Series gives a day per
    contract_id). ``lines`` (payment lines) and ``complaints`` may be passed in when already computed."""
    contracts = data.contracts
    if contracts.empty:
        return pd.DataFrame(columns=[*CONTRACT_KEYS, "as_of", *METRIC_COLUMNS])
    day = as_of if as_of is not None else measured_until(data)
    day = day if isinstance(day, pd.Series) else pd.Series(pd.Timestamp(day), index=contracts["contract_id"])
    day = day.clip(upper=data.data_through)
    lines = payment_lines(data) if lines is None else lines
    complaints = work_zone_complaints(data) if complaints is None else complaints
    states = state_on(data.segments, contracts, day)
    states["unreported"] = unreported(states, data.data_through)
    if complaints is not None:
        counted = complaints.merge(states[["segment_id", "as_of"]], on="segment_id")
        per_segment = counted[counted["requested_at"] <= counted["as_of"]].groupby("segment_id").size()
        states["complaints"] = states["segment_id"].map(per_segment).fillna(0).astype(int)
    rows = []
    totals = contract_totals(lines, day)
    by_contract = dict(tuple(states.groupby("contract_id", sort=False)))
    for contract in contracts.itertuples(index=False):
        own = by_contract.get(contract.contract_id, states.iloc[0:0])
        row = {key: getattr(contract, key) for key in CONTRACT_KEYS}
        row["as_of"] = day[contract.contract_id]
        row.update(_measure(contract, own, complaints is not None))
        money = totals.loc[contract.contract_id] if contract.contract_id in totals.index else None
        row.update(_cost(contract, own, row, money))
        rows.append(row)
    return pd.DataFrame(rows, columns=[*CONTRACT_KEYS, "as_of", *METRIC_COLUMNS])


def _ratio(numerator, denominator):
    return float(numerator) / float(denominator) if denominator and pd.notna(denominator) else None


def _measure(contract, s: pd.DataFrame, with_complaints: bool) -> dict:
    done = s[s["completed"]]
    closed = s[s["closed_out"]]
    pci = done[done["has_pci"]]
    m: dict = {
        "planned_segments": len(s),
        "planned_miles": contract.planned_miles,
        "segments_completed": len(done),
        "miles_completed": round(float(done["length_miles"].sum()), 4),
        "segments_due": int(s["due"].sum()),
        "segments_overdue": int(s["overdue"].sum()),
        "segments_on_time": int(s["on_time"].sum()),
        "days_late_total": int(done["days_late"].sum()) if len(done) else 0,
        "segments_unreported": int(s["unreported"].sum()),
        "pci_readings": len(pci),
        "segments_missing_pci": len(done) - len(pci),
        "segments_rework": int(done["rework"].sum()),
        "miles_closed_out": round(float(closed["length_miles"].sum()), 4),
        "parking_incidents": int(closed["parking_incidents"].fillna(0).sum()),
        "environmental_incidents": int(closed["environmental_incidents"].fillna(0).sum()),
    }
    m["share_segments_completed"] = _ratio(len(done), len(s))
    m["share_miles_completed"] = _ratio(m["miles_completed"], contract.planned_miles)
    m["progress_vs_plan"] = _ratio(len(done), m["segments_due"])
    m["on_time_share"] = _ratio(m["segments_on_time"], len(done))
    m["avg_days_late"] = _ratio(m["days_late_total"], len(done))
    m["avg_pci_before"] = float(pci["pci_before"].mean()) if len(pci) else None
    m["avg_pci_after"] = float(pci["pci_after"].mean()) if len(pci) else None
    m["avg_pci_improvement"] = float((pci["pci_after"] - pci["pci_before"]).mean()) if len(pci) else None
    m["rework_share"] = _ratio(m["segments_rework"], len(done))
    m["parking_per_mile"] = _ratio(m["parking_incidents"], m["miles_closed_out"])
    m["environmental_per_mile"] = _ratio(m["environmental_incidents"], m["miles_closed_out"])
    m["share_no_parking"] = _ratio(int((done["parking_incidents"].fillna(0) == 0).sum()), len(done))
    m["share_no_environmental"] = _ratio(int((done["environmental_incidents"].fillna(0) == 0).sum()), len(done))
    if with_complaints:
        m["complaints"] = int(closed["complaints"].sum())
        m["complaints_per_mile"] = _ratio(m["complaints"], m["miles_closed_out"])
    else:
        m["complaints"] = m["complaints_per_mile"] = None
    notes = []
    if m["segments_missing_pci"]:
        missing = sorted(done.loc[~done["has_pci"], "segment_id"])  # by id: the marts are read in no set order
        notes.append(f"{len(missing)} completed segment(s) without a PCI reading, left out of the PCI averages: {', '.join(missing)}")
    if m["segments_unreported"]:
        gone = s.loc[s["unreported"], ["segment_id", "last_report_week"]].sort_values("segment_id")
        listed = ", ".join(f"{r.segment_id} (last reported {r.last_report_week:%Y-%m-%d})" for r in gone.itertuples())
        notes.append(f"{len(gone)} segment(s) left the weekly reports without a completion row, counted as not completed: {listed}")
    if not len(s):
        notes.append("no segments in the paving reports yet")
    elif not len(done):
        notes.append("no segment completed yet")
    if not with_complaints:
        notes.append("no 311 data: complaints not measured")
    m["notes"] = "; ".join(notes) or None
    return m


def _cost(contract, s: pd.DataFrame, m: dict, money) -> dict:
    """What the city owes so far: the base payment pro rata to planned miles completed, plus performance
    payments earned, minus penalties; and that per mile completed and per PCI point-mile gained."""
    earned = float(money["performance_earned"]) if money is not None else 0.0
    penalties = float(money["penalties"]) if money is not None else 0.0
    base_share = min(1.0, m["share_miles_completed"] or 0.0)
    base = float(contract.base_payment or 0) * base_share
    payable = base + earned - penalties
    done = s[s["completed"]]
    pci = done[done["has_pci"]]
    point_miles = float(((pci["pci_after"] - pci["pci_before"]) * pci["length_miles"]).sum()) if len(pci) else 0.0
    pci_share = _ratio(pci["length_miles"].sum(), m["miles_completed"]) or 0.0
    return {
        "performance_pool": contract.performance_pool,
        "performance_earned": earned,
        "penalties": penalties,
        "performance_net": earned - penalties,
        "base_earned": round(base, 2),
        "amount_payable": round(payable, 2),
        "cost_per_mile": _ratio(payable, m["miles_completed"]),
        # the cost of the miles that have PCI readings, per point of PCI gained on them, per mile
        "cost_per_pci_point_mile": _ratio(payable * pci_share, point_miles) if point_miles > 0 else None,
    }


def contract_performance(data: ContractData) -> pd.DataFrame:
    """Each contract measured at the end of every month of its season (and after, while work finishes late),
    up to the latest report (``period`` YYYY-MM; cumulative season to date); ``is_latest`` marks each
    contract's last row."""
    if data.contracts.empty:
        return pd.DataFrame(columns=[*CONTRACT_KEYS, "period", "as_of", "is_latest", *METRIC_COLUMNS])
    lines = payment_lines(data)
    complaints = work_zone_complaints(data)
    frames = []
    until = measured_until(data)
    months = pd.period_range(data.contracts["start_date"].min(), until.max(), freq="M")
    for month in months:
        month_end = month.to_timestamp(how="end").normalize()
        active = data.contracts[(data.contracts["start_date"] <= month_end)
                                & (data.contracts["contract_id"].map(until).dt.to_period("M") >= month)]
        if active.empty:
            continue
        day = pd.Series([min(month_end, until[c]) for c in active["contract_id"]], index=active["contract_id"])
        narrowed = ContractData(active.reset_index(drop=True), data.milestones, data.segments, data.requests, data.data_through)
        frame = contract_metrics(narrowed, day, lines, complaints)
        frame.insert(len(CONTRACT_KEYS), "period", str(month))
        frames.append(frame)
    table = pd.concat(frames, ignore_index=True)
    table.insert(len(CONTRACT_KEYS) + 2, "is_latest", table["period"] == table.groupby("contract_id")["period"].transform("max"))
    return table.sort_values(["season_year", "contract_id", "period"]).reset_index(drop=True)

