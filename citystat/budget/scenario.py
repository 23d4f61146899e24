"""A budget-cut scenario that does the least harm to outcomes (Jackson, MS cut 7.6% while keeping services).

``propose_cut(programmes, pct)`` finds ``pct`` % of the total base budget:

1. first from consolidations (repurposing candidates with positive savings and no loss of outcomes: the
   failing site's clients move to a site that achieves more), the best candidate per failing site;
2. then greedily from the programmes with the lowest ``outcome_per_dollar`` (the least outcome lost per dollar
   removed), each cut down to at most its floor (default: keep 80% of its base budget), the last one only as
   far as needed. Protected programmes and programmes with no outcome measure (harm unknown) are not cut.

Outcomes are assumed to fall in proportion to the money taken (a 20% cut loses ~20% of what the programme
achieves; for a programme whose outcomes are counted, ``cut / cost_per_outcome`` of them a year). Every row
says why it was or was not cut.
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass

import pandas as pd

DEFAULT_CUT_PCT = 7.6
DEFAULT_FLOOR_SHARE = 0.80

CONSOLIDATE, CONSOLIDATE_AND_CUT = "consolidate", "consolidate + cut"
CUT_TO_FLOOR, PARTIAL_CUT = "cut to floor", "partial cut"
NOT_NEEDED, UNMEASURED, PROTECTED = "not cut: target reached", "not cut: no outcome measure", "not cut: protected"

SCENARIO_COLUMNS = [
    "cut_pct", "step", "program_code", "program_name", "department_code", "base_budget", "floor_share", "floor_budget",
    "outcome_index", "ratio_to_peer_median", "peer_flag", "execution_pct", "outcome_per_dollar", "outcome_per_dollar_rank",
    "consolidation_savings", "service_cut", "proposed_cut", "cut_share_pct", "new_budget",
    "est_outcome_change_pct", "outcome_measure", "cost_per_outcome", "est_outcomes_lost_per_year",
    "decision", "explanation",
]

COLUMN_DOCS = {
    "cut_pct": "the scenario's cut, % of the total base budget",
    "step": "order in which the money was found (consolidations first, then lowest outcome per dollar); NULL = not cut",
    "program_code": "budget programme",
    "program_name": "programme name",
    "department_code": "department code",
    "base_budget": "the programme's revised budget in the latest fiscal year (USD)",
    "floor_share": "share of the base budget the scenario never cuts below",
    "floor_budget": "base_budget x floor_share (USD)",
    "outcome_index": "mean outcome score over the last 12 months (1.0 = on target)",
    "ratio_to_peer_median": "department's per-resident spending / peer median (latest year compared)",
    "peer_flag": "'above peers' when the department's spending per resident is disproportionate (metrics.peer_benchmarks)",
    "execution_pct": "spending / budget in the latest complete fiscal year, %",
    "outcome_per_dollar": "outcome_index x peer factor / (execution_pct/100), peer factor = 1/ratio_to_peer_median when peer_flag is 'above peers' else 1: outcome value per dollar (1.0 = budgeted results for budgeted money)",
    "outcome_per_dollar_rank": "1 = lowest outcome per dollar among measured programmes",
    "consolidation_savings": "savings from merging a failing site into a better one (metrics.repurposing_candidates), USD/year",
    "service_cut": "cut to the programme's service (USD/year)",
    "proposed_cut": "consolidation_savings + service_cut (USD/year)",
    "cut_share_pct": "proposed_cut / base_budget x 100",
    "new_budget": "base_budget - proposed_cut",
    "est_outcome_change_pct": "expected change in the programme's outcomes from the service cut, % (proportional assumption; consolidations are expected to raise outcomes)",
    "outcome_measure": "what the programme's outcomes count, when they are counted",
    "cost_per_outcome": "spending per outcome in the latest complete fiscal year (USD)",
    "est_outcomes_lost_per_year": "service_cut / cost_per_outcome",
    "decision": "consolidate | consolidate + cut | cut to floor | partial cut | not cut: target reached | not cut: no outcome measure | not cut: protected",
    "explanation": "why, in words",
}

_PERCENT = re.compile(r"^\s*([0-9]*\.?[0-9]+)\s*%?\s*$")


def parse_percent(text: str | float) -> float:
    """``"7.6%"`` or ``"7.6"`` -> 7.6; a cut must be more than 0 and less than 100 percent."""
    match = _PERCENT.match(str(text))
    if not match:
        raise ValueError(f"cut {text!r} is not a percentage (e.g. 7.6%)")
    value = float(match[1])
    if not 0 < value < 100:
        raise ValueError(f"cut {text!r} must be more than 0% and less than 100%")
    return value


@dataclass(frozen=True)
class Scenario:
    cut_pct: float
    floor_share: float
    base_total: float
    target_amount: float
    consolidation_total: float
    proposed_total: float
    table: pd.DataFrame

    @property
    def shortfall(self) -> float:
        return max(0.0, self.target_amount - self.proposed_total)

    def summary(self) -> str:
        text = (f"A {self.cut_pct:g}% cut of ${self.base_total:,.0f} is ${self.target_amount:,.0f}: "
                f"${self.proposed_total:,.0f} found")
        if self.consolidation_total > 0:
            text += f" (${self.consolidation_total:,.0f} from consolidating failing sites)"
        cut = self.table[self.table["step"].notna()]
        text += f" in {len(cut)} programme(s)"
        if self.shortfall > 0.5:
            text += (f"; ${self.shortfall:,.0f} short: every measured programme is at its {self.floor_share:.0%} floor "
                     f"(lower the floor or measure more programmes)")
        return text + "."


def _ordinal(n: int) -> str:
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def _present(x) -> bool:
    return x is not None and not (isinstance(x, float) and math.isnan(x)) and x is not pd.NA


def _why_rank(row: dict, measured: int) -> str:
    rank = row["outcome_per_dollar_rank"]
    parts = [f"{'Lowest' if rank == 1 else _ordinal(rank) + ' lowest'} outcome per dollar of {measured} measured programmes "
             f"({row['outcome_per_dollar']:.2f}"]
    terms = []
    if _present(row.get("outcome_index")):
        terms.append(f"outcome index {row['outcome_index']:.2f}")
    if row.get("peer_flag") == "above peers" and _present(row.get("ratio_to_peer_median")) and row["ratio_to_peer_median"] > 1:
        terms.append(f"x 1/{row['ratio_to_peer_median']:.2f} for spending out of line with peers")
    if _present(row.get("execution_pct")):
        terms.append(f"/ {row['execution_pct']:.0f}% execution")
    if terms:
        parts.append(" = " + " ".join(terms))
    return "".join(parts) + ")"


def propose_cut(programmes: pd.DataFrame, pct: float, floor_share: float = DEFAULT_FLOOR_SHARE,
                protected: tuple[str, ...] | list[str] | set[str] = (), consolidations: pd.DataFrame | None = None) -> Scenario:
    """Where a cut of ``pct`` % of the total base budget does least harm to outcomes.

    ``programmes``: ``program_code, base_budget, outcome_per_dollar`` (NaN = no outcome measure) and optionally
    ``program_name, department_code, outcome_index, ratio_to_peer_median, peer_flag, execution_pct, cost_per_outcome,
    outcome_measure, floor_share`` (per programme, overrides the default), ``context`` (a sentence added to the
    explanation). ``consolidations``: ``program_code, annual_savings, description`` (taken first).
    """
    if not 0 < pct < 100:
        raise ValueError(f"cut must be more than 0% and less than 100% (got {pct})")
    if not 0 <= floor_share <= 1:
        raise ValueError(f"floor share must be between 0 and 1 (got {floor_share})")
    missing = [c for c in ("program_code", "base_budget", "outcome_per_dollar") if c not in programmes.columns]
    if missing:
        raise ValueError(f"programme table is missing column(s) {', '.join(missing)}")
    duplicated = programmes["program_code"][programmes["program_code"].duplicated()].tolist()
    if duplicated:
        raise ValueError(f"programme table lists {', '.join(sorted(set(duplicated)))} more than once")
    bad = programmes[programmes["base_budget"].isna() | (programmes["base_budget"] < 0)]["program_code"].tolist()
    if bad:
        raise ValueError(f"base_budget must be a number >= 0 for {', '.join(bad)}")

    rows = {r["program_code"]: dict(r) for r in programmes.to_dict("records")}
    for row in rows.values():
        row.setdefault("program_name", row["program_code"])
        own_floor = row.get("floor_share")
        row["floor_share"] = float(own_floor) if _present(own_floor) else floor_share
        row["floor_budget"] = row["base_budget"] * row["floor_share"]
        row.update(consolidation_savings=0.0, service_cut=0.0, step=None, notes=[])
    base_total = float(sum(r["base_budget"] for r in rows.values()))
    target = base_total * pct / 100.0
    found = 0.0
    step = 0

    measured = sorted((r for r in rows.values() if _present(r["outcome_per_dollar"])),
                      key=lambda r: (r["outcome_per_dollar"], -r["base_budget"], r["program_code"]))
    for rank, row in enumerate(measured, start=1):
        row["outcome_per_dollar_rank"] = rank

    # 1. consolidations: money found while outcomes go up
    if consolidations is not None and len(consolidations):
        for item in consolidations.sort_values("annual_savings", ascending=False).itertuples():
            row = rows.get(item.program_code)
            if row is None or item.annual_savings <= 0 or found >= target or item.program_code in protected:
                continue
            room = row["base_budget"] - row["floor_budget"] - row["consolidation_savings"]
            amount = min(item.annual_savings, target - found, max(room, 0.0))
            if amount <= 0:
                continue
            step += 1
            row["step"] = row["step"] or step
            row["consolidation_savings"] += amount
            found += amount
            row["notes"].append(f"Consolidation first (outcomes rise): {item.description}; books ${amount:,.0f}.")

    # 2. service cuts, lowest outcome per dollar first
    for row in measured:
        if found >= target - 1e-6:
            break
        if row["program_code"] in protected:
            continue
        room = row["base_budget"] - row["floor_budget"] - row["consolidation_savings"]
        amount = min(max(room, 0.0), target - found)
        if amount <= 0:
            continue
        step += 1
        row["step"] = row["step"] or step
        row["service_cut"] = amount
        found += amount

    out = []
    for row in rows.values():
        cut = row["consolidation_savings"] + row["service_cut"]
        base = row["base_budget"]
        share = cut / base if base else 0.0
        row.update(cut_pct=pct, proposed_cut=cut, cut_share_pct=share * 100.0, new_budget=base - cut,
                   est_outcome_change_pct=-(row["service_cut"] / base * 100.0) if base and row["service_cut"] else 0.0)
        cost_per_outcome = row.get("cost_per_outcome")
        row["est_outcomes_lost_per_year"] = (row["service_cut"] / cost_per_outcome
                                             if _present(cost_per_outcome) and cost_per_outcome > 0 and row["service_cut"] > 0 else None)
        row["decision"], row["explanation"] = _decide(row, len(measured), protected)
        out.append(row)
    table = pd.DataFrame(out)
    for column in SCENARIO_COLUMNS:
        if column not in table.columns:
            table[column] = None
    table = table[SCENARIO_COLUMNS].astype({"step": "Int64", "outcome_per_dollar_rank": "Int64",
                                            "outcome_per_dollar": "float64", "est_outcomes_lost_per_year": "float64"})
    table = table.sort_values(["step", "outcome_per_dollar", "program_code"], na_position="last").reset_index(drop=True)
    return Scenario(cut_pct=pct, floor_share=floor_share, base_total=base_total, target_amount=target,
                    consolidation_total=float(table["consolidation_savings"].sum()), proposed_total=found, table=table)


def _decide(row: dict, measured: int, protected) -> tuple[str, str]:
    notes = list(row["notes"])
    context = row.get("context")
    context = f" {context}" if _present(context) and context else ""
    if row["program_code"] in protected:
        return PROTECTED, "Protected from cuts in this scenario." + context
    if not _present(row["outcome_per_dollar"]) and row["consolidation_savings"] == 0:
        return UNMEASURED, "No outcome measure with a target: the harm of a cut cannot be judged, so none is proposed." + context
    cut = row["service_cut"]
    if cut <= 0 and row["consolidation_savings"] == 0:
        return NOT_NEEDED, (f"{_why_rank(row, measured)}; the cut was found before reaching it." if _present(row["outcome_per_dollar"])
                            else "Not needed.") + context
    text = " ".join(notes)
    if cut > 0:
        at_floor = row["new_budget"] <= row["floor_budget"] + 0.5
        share = cut / row["base_budget"]
        floor_note = f", down to its {row['floor_share']:.0%} floor" if at_floor else ""
        sentence = (f"{_why_rank(row, measured)}: cut ${cut:,.0f} ({share:.1%} of ${row['base_budget']:,.0f}{floor_note}); "
                    f"outcomes expected to fall ~{share:.1%}")
        if _present(row["est_outcomes_lost_per_year"]):
            sentence += f" (~{row['est_outcomes_lost_per_year']:,.0f} {row.get('outcome_measure') or 'outcomes'} a year)"
        text = (text + " " + sentence + ".").strip()
        decision = CONSOLIDATE_AND_CUT if row["consolidation_savings"] > 0 else (CUT_TO_FLOOR if at_floor else PARTIAL_CUT)
    else:
        decision = CONSOLIDATE
    return decision, text + context


def scenario_inputs(cost_effectiveness: pd.DataFrame, trailing_index: pd.DataFrame, latest_peers: pd.DataFrame,
                    failing: pd.DataFrame) -> pd.DataFrame:
    """The programme table ``propose_cut`` reads, from the budget metrics.

    Base budget: the revised budget of the latest fiscal year with a budget; execution, cost per outcome: the
    latest complete fiscal year; outcome index: the last 12 months; peer ratio: the latest year compared.
    ``context`` names the programme's failing sites / KPIs and a peer flag on its department.
    """
    from citystat.budget.cost_effectiveness import outcome_per_dollar

    ce = cost_effectiveness
    budgeted = ce[ce["revised_budget"].notna()]
    latest_year = budgeted["fiscal_year"].max()
    base = budgeted[budgeted["fiscal_year"] == latest_year][["program_code", "program_name", "department_code", "revised_budget"]]
    base = base.rename(columns={"revised_budget": "base_budget"})
    complete = ce[ce["fiscal_year_complete"].astype(bool)].sort_values("fiscal_year").groupby("program_code").tail(1)
    frame = base.merge(complete[["program_code", "execution_pct", "cost_per_outcome", "outcome_measure"]], on="program_code", how="left")
    frame = frame.merge(trailing_index[["program_code", "outcome_index"]], on="program_code", how="left")
    peers = latest_peers.rename(columns={"function_code": "department_code"})
    frame = frame.merge(peers[["department_code", "ratio_to_peer_median", "flag", "explanation"]]
                        .rename(columns={"flag": "peer_flag", "explanation": "peer_explanation"}), on="department_code", how="left")
    frame["outcome_per_dollar"] = outcome_per_dollar(frame["outcome_index"], frame["ratio_to_peer_median"],
                                                     frame["peer_flag"], frame["execution_pct"])

    def context(row) -> str:
        notes = []
        for item in failing.itertuples():
            programmes = [p.strip() for p in str(item.program_code or "").split(",")]
            if row.program_code in programmes:
                what = item.entity_name or item.entity_id  # people read names: the site's, the KPI's
                notes.append(f"{what} red in {item.red_periods} of the last {item.window_periods} months")
        text = ("Failing: " + "; ".join(notes) + ".") if notes else ""
        if _present(row.peer_flag) and row.peer_flag:
            text = (text + " " + str(row.peer_explanation) + ".").strip()
        return text

    frame["context"] = [context(row) for row in frame.itertuples()]
    return frame.drop(columns=["peer_explanation"]).reset_index(drop=True)


def consolidations_from(candidates: pd.DataFrame) -> pd.DataFrame:
    """The best repurposing candidate per failing site, when it saves money without lowering outcomes."""
    columns = ["program_code", "annual_savings", "description"]
    if candidates.empty:
        return pd.DataFrame(columns=columns)
    best = candidates[(candidates["alternative_rank"] == 1) & (candidates["estimated_annual_savings"] > 0)
                      & (candidates["estimated_outcome_change_pts"] >= 0)]
    return pd.DataFrame({"program_code": best["program_code"], "annual_savings": best["estimated_annual_savings"],
                         "description": [f"merge {r.failing_site_name} into {r.alternative_site_name}"
                                         for r in best.itertuples()]},
                        columns=columns).reset_index(drop=True)
