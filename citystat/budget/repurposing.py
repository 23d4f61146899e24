"""Repurposing candidates: for each consistently failing site, the sites of the same programme in the same
service area that meet their target and have spare places, with what moving its clients there would save and
do to outcomes (Jackson, MS merged low-performing senior and child-care centres into higher-performing ones).

Estimate for moving every client of the failing site to one alternative and closing the failing site, all
figures as monthly averages over the last M months (the failing rule's window):

* ``clients_to_move`` = the failing site's mean enrollment;
* ``places_in_spare_capacity`` = min(clients_to_move, the alternative's mean spare places, capacity - enrollment);
  ``places_to_add`` = the rest;
* the alternative's ``cost_per_place`` = its monthly cost / its capacity;
* a client in a spare place costs ``marginal_cost_share`` (default 0.25) of a place: the building, staff on shift
  and management are already paid for, meals, materials and some staff hours are not;
* an added place costs a full place (new capacity brings its own fixed costs);
* ``estimated_monthly_savings`` = failing site's monthly cost - spare places x marginal share x cost per place
  - added places x cost per place; annual = x 12;
* moved clients achieve the alternative's outcome rate: ``estimated_outcome_change_pts`` = alternative's mean
  outcome - failing site's mean outcome, ``estimated_additional_outcomes_per_month`` = clients x that / 100.

"Meets its target" uses the failing rule turned round: met its target in at least N of the last M months.
A failing site with no such alternative still gets one row (no alternative), so the gap is visible.
"""
from __future__ import annotations

import math

import pandas as pd

from citystat.budget.failing import DEFAULT_RED_PERIODS, DEFAULT_WINDOW, check_rule
from citystat.budget.outcomes import month_ordinal

DEFAULT_MARGINAL_COST_SHARE = 0.25

CANDIDATE_COLUMNS = [
    "failing_site_id", "failing_site_name", "program_code", "service_area", "alternative_rank",
    "alternative_site_id", "alternative_site_name", "window_start", "window_end", "clients_to_move",
    "alternative_spare_places", "places_in_spare_capacity", "places_to_add", "absorbs_all_clients",
    "failing_monthly_cost", "alternative_cost_per_place", "marginal_cost_share", "cost_of_moved_clients_monthly",
    "estimated_monthly_savings", "estimated_annual_savings", "failing_outcome_rate", "alternative_outcome_rate",
    "outcome_target", "estimated_outcome_change_pts", "estimated_additional_outcomes_per_month",
    "alternative_months_met_target", "assumptions", "explanation",
]

COLUMN_DOCS = {
    "failing_site_id": "the consistently failing site (metrics.failing_programmes)",
    "failing_site_name": "its name",
    "program_code": "programme of both sites",
    "service_area": "district both sites serve",
    "alternative_rank": "1 = the alternative with the largest estimated annual savings; NULL when there is none",
    "alternative_site_id": "a site of the same programme and service area meeting its target with spare places (NULL: none)",
    "alternative_site_name": "its name",
    "window_start": "first month averaged (YYYY-MM)",
    "window_end": "last month averaged (YYYY-MM)",
    "clients_to_move": "failing site's mean monthly enrollment in the window",
    "alternative_spare_places": "alternative's mean capacity - enrollment in the window",
    "places_in_spare_capacity": "clients the alternative can take in places it already has",
    "places_to_add": "clients needing new places at the alternative",
    "absorbs_all_clients": "the alternative's spare places take every client",
    "failing_monthly_cost": "failing site's mean monthly cost (USD), saved when it closes",
    "alternative_cost_per_place": "alternative's monthly cost / capacity (USD per place per month)",
    "marginal_cost_share": "assumed share of a place's cost a client in an existing spare place adds",
    "cost_of_moved_clients_monthly": "places_in_spare_capacity x marginal share x cost per place + places_to_add x cost per place (USD/month)",
    "estimated_monthly_savings": "failing_monthly_cost - cost_of_moved_clients_monthly (USD/month)",
    "estimated_annual_savings": "estimated_monthly_savings x 12 (USD)",
    "failing_outcome_rate": "failing site's mean outcome value in the window",
    "alternative_outcome_rate": "alternative's mean outcome value in the window",
    "outcome_target": "the outcome target (failing site's mean target in the window)",
    "estimated_outcome_change_pts": "alternative_outcome_rate - failing_outcome_rate (percentage points for moved clients)",
    "estimated_additional_outcomes_per_month": "clients_to_move x estimated_outcome_change_pts / 100 (more participants achieving the outcome each month)",
    "alternative_months_met_target": "months in the window the alternative met its target",
    "assumptions": "the assumptions behind the estimate, in words",
    "explanation": "one sentence for readers",
}


def _assumptions(marginal_share: float, red_periods: int, window: int) -> str:
    return (f"monthly means over the last {window} months; a client in an existing spare place costs {marginal_share:.0%} "
            f"of the alternative's cost per place, a new place costs a full place; the failing site closes and all its "
            f"costs are saved; moved clients achieve the alternative's outcome rate; alternatives met their target in "
            f">= {red_periods} of the last {window} months")


def _mean(values: pd.Series) -> float:
    value = values.astype("float64").mean()
    return float(value) if not math.isnan(value) else 0.0


def repurposing_candidates(sites: pd.DataFrame, failing: pd.DataFrame, red_periods: int = DEFAULT_RED_PERIODS,
                           window: int = DEFAULT_WINDOW,
                           marginal_cost_share: float = DEFAULT_MARGINAL_COST_SHARE) -> pd.DataFrame:
    """metrics.repurposing_candidates.

    ``sites``: one row per site and month with ``site_id, site_name, program_code, service_area, period, capacity,
    enrollment, outcome_value, outcome_target, monthly_cost, status`` (outcomes.site_status);
    ``failing``: metrics.failing_programmes (only ``entity_type = 'site'`` rows are used).
    """
    check_rule(red_periods, window)
    if not 0 <= marginal_cost_share <= 1:
        raise ValueError(f"marginal_cost_share must be between 0 and 1 (got {marginal_cost_share})")
    rows = []
    failing_sites = failing[failing["entity_type"] == "site"]
    failing_ids = set(failing_sites["entity_id"])
    frame = sites.assign(ordinal=sites["period"].map(month_ordinal)) if len(sites) else sites
    for failed in failing_sites.itertuples():
        start, end = month_ordinal(failed.window_start), month_ordinal(failed.window_end)
        in_window = frame[(frame["ordinal"] >= start) & (frame["ordinal"] <= end)]
        own = in_window[in_window["site_id"] == failed.entity_id]
        if own.empty:
            continue
        name, programme, area = own["site_name"].iloc[-1], own["program_code"].iloc[-1], own["service_area"].iloc[-1]
        clients = _mean(own["enrollment"])
        failing_cost = _mean(own["monthly_cost"])
        failing_rate = _mean(own["outcome_value"])
        target = _mean(own["outcome_target"])
        base = {"failing_site_id": failed.entity_id, "failing_site_name": name, "program_code": programme,
                "service_area": area, "window_start": failed.window_start, "window_end": failed.window_end,
                "clients_to_move": clients, "failing_monthly_cost": failing_cost, "failing_outcome_rate": failing_rate,
                "outcome_target": target, "marginal_cost_share": marginal_cost_share,
                "assumptions": _assumptions(marginal_cost_share, red_periods, window)}
        peers = in_window[(in_window["program_code"] == programme) & (in_window["service_area"] == area)
                          & (in_window["site_id"] != failed.entity_id) & ~in_window["site_id"].isin(failing_ids)]
        options = []
        for site_id, alt in peers.groupby("site_id", sort=True):
            met = int((alt["outcome_value"].astype("float64") >= alt["outcome_target"].astype("float64")).sum())
            spare = _mean(alt["capacity"] - alt["enrollment"])
            capacity = _mean(alt["capacity"])
            if met < red_periods or spare <= 0 or capacity <= 0:
                continue
            cost_per_place = _mean(alt["monthly_cost"]) / capacity
            in_spare = min(clients, spare)
            to_add = clients - in_spare
            moved_cost = in_spare * marginal_cost_share * cost_per_place + to_add * cost_per_place
            savings = failing_cost - moved_cost
            alt_rate = _mean(alt["outcome_value"])
            change = alt_rate - failing_rate
            option = {**base, "alternative_site_id": site_id, "alternative_site_name": alt["site_name"].iloc[-1],
                      "alternative_spare_places": spare, "places_in_spare_capacity": in_spare, "places_to_add": to_add,
                      "absorbs_all_clients": to_add <= 0, "alternative_cost_per_place": cost_per_place,
                      "cost_of_moved_clients_monthly": moved_cost, "estimated_monthly_savings": savings,
                      "estimated_annual_savings": savings * 12, "alternative_outcome_rate": alt_rate,
                      "estimated_outcome_change_pts": change,
                      "estimated_additional_outcomes_per_month": clients * change / 100.0,
                      "alternative_months_met_target": met}
            option["explanation"] = (
                f"Move {name}'s ~{clients:.0f} clients to {option['alternative_site_name']} ({spare:.0f} spare places"
                f"{'' if to_add <= 0 else f', {to_add:.0f} places to add'}; met target {met} of {window} months): "
                f"saves ~${savings * 12:,.0f} a year and lifts their outcome from {failing_rate:.1f} to {alt_rate:.1f} "
                f"(target {target:.0f}), ~{clients * change / 100.0:+.0f} participants achieving it each month")
            options.append(option)
        if not options:
            rows.append({**base, "explanation": f"No {programme} site in the {area} service area met its target in >= "
                                                f"{red_periods} of {window} months with spare places: no alternative nearby"})
            continue
        options.sort(key=lambda o: (-o["estimated_annual_savings"], o["alternative_site_id"]))
        for rank, option in enumerate(options, start=1):
            rows.append({**option, "alternative_rank": rank})
    result = pd.DataFrame(rows, columns=CANDIDATE_COLUMNS)
    return result.astype({"alternative_rank": "Int64", "alternative_months_met_target": "Int64"})
