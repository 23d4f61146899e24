"""Programme cost-effectiveness by fiscal year: what each programme spent (the ledger) against its budget, what
it produced (outputs) and achieved (outcomes), and what one unit of each cost.

* Spending is the sum of the programme's general-ledger lines (reversals net out), budget the revised budget.
  ``execution_pct`` compares spending with the budget prorated to the months posted so far (a year in
  progress is not "under-spent" in October).
* Outputs and outcomes are counted from the human-services sites (client-months served; participants achieving
  the outcome = enrollment x outcome_value / 100) or from the KPI that ``programme_measures.csv`` names with a
  ``count_from``: the KPI's monthly value or numerator summed over the year (for a fiscal-year-to-date KPI, its
  value in the year's last month).
* ``outcome_index`` (outcomes.py): mean score of the programme's outcome measures, 1.0 = on target.
* ``outcome_per_dollar`` = outcome_index x peer factor / (execution_pct / 100): outcome value per dollar,
  taking a programme's on-target results to be worth its budget, or, when its department's spending is flagged
  as disproportionate against the peer cities (peers.py), what the peers spend: peer factor =
  1 / ratio_to_peer_median for a flagged function, else 1 (differences within the peer range are not held
  against a programme). 1.0 = the budgeted results for the budgeted money; lower = each dollar buys less. The
  scenario cuts the lowest first.
"""
from __future__ import annotations

import duckdb
import pandas as pd

from citystat.warehouse import any_value_of, read, require, value_at_max
from citystat.budget.outcomes import OutcomeData, outcome_index
from citystat.budget.peers import ABOVE, MIN_PEERS

BUDGET_MART = "marts.fct_budget_lines"
LEDGER_MART = "marts.fct_expenditures"

SITE_OUTPUT_LABEL = "client-months served"
SITE_OUTCOME_LABEL = "participant-months achieving the outcome"

CE_COLUMNS = [
    "program_code", "program_name", "department_code", "fiscal_year", "months_posted", "fiscal_year_complete",
    "adopted_budget", "revised_budget", "actual_spending", "execution_pct", "spending_change_pct",
    "output_measure", "output_units", "cost_per_output", "cost_per_output_change_pct",
    "outcome_measure", "outcome_units", "cost_per_outcome", "cost_per_outcome_change_pct",
    "outcome_index", "outcome_basis", "ratio_to_peer_median", "peer_flag", "outcome_per_dollar",
]

COLUMN_DOCS = {
    "program_code": "budget programme",
    "program_name": "programme name (latest budget)",
    "department_code": "department code",
    "fiscal_year": "fiscal year (July-June, named by its end year)",
    "months_posted": "months of the fiscal year with ledger postings citywide (12 = complete year)",
    "fiscal_year_complete": "all 12 months posted",
    "adopted_budget": "adopted budget (USD)",
    "revised_budget": "revised budget (USD)",
    "actual_spending": "ledger spending (USD; reversals net out)",
    "execution_pct": "actual_spending / (revised_budget x months_posted / 12) x 100; 100 = spending on plan",
    "spending_change_pct": "change in actual spending from the previous fiscal year, % (complete years only)",
    "output_measure": "what outputs are counted (e.g. client-months served, work orders completed)",
    "output_units": "outputs in the year",
    "cost_per_output": "actual_spending / output_units (USD)",
    "cost_per_output_change_pct": "change in cost per output from the previous fiscal year, %",
    "outcome_measure": "what outcomes are counted (e.g. participant-months achieving the outcome)",
    "outcome_units": "outcomes achieved in the year",
    "cost_per_outcome": "actual_spending / outcome_units (USD)",
    "cost_per_outcome_change_pct": "change in cost per outcome from the previous fiscal year, %",
    "outcome_index": "mean score of the programme's outcome measures in the year (value / target, capped 1.25; 1.0 = on target)",
    "outcome_basis": "measures behind the outcome index (site ids or KPI ids)",
    "ratio_to_peer_median": "the department's per-resident spending / the peer median that year (metrics.peer_benchmarks)",
    "peer_flag": "the department's peer flag that year ('above peers' = disproportionate spending; metrics.peer_benchmarks)",
    "outcome_per_dollar": "outcome_index x peer factor / (execution_pct/100); peer factor = 1/ratio_to_peer_median when peer_flag is 'above peers', else 1; 1.0 = budgeted results for the budgeted money",
}


def read_budget(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    require(con, BUDGET_MART, ("fiscal_year", "department_code", "program_code", "program_name", "adopted_amount",
                               "revised_amount"), "metrics.programme_cost_effectiveness")
    return read(con, f"""
        SELECT program_code, fiscal_year, {value_at_max(con, "program_name", "revised_amount")} AS program_name,
               {value_at_max(con, "department_code", "revised_amount")} AS department_code,
               sum(adopted_amount) AS adopted_budget, sum(revised_amount) AS revised_budget
        FROM {BUDGET_MART} WHERE program_code IS NOT NULL GROUP BY program_code, fiscal_year""")


def read_spending(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """Ledger spending per programme and year, with the months posted citywide that year."""
    require(con, LEDGER_MART, ("fiscal_year", "fiscal_period", "department_code", "program_code", "amount"),
            "metrics.programme_cost_effectiveness")
    return read(con, f"""
        WITH months AS (SELECT fiscal_year, count(DISTINCT fiscal_period) AS months_posted FROM {LEDGER_MART} GROUP BY 1)
        SELECT l.program_code, l.fiscal_year, {any_value_of(con, "l.department_code")} AS ledger_department_code,
               sum(l.amount) AS actual_spending, {any_value_of(con, "m.months_posted")} AS months_posted
        FROM {LEDGER_MART} l JOIN months m USING (fiscal_year)
        WHERE l.program_code IS NOT NULL GROUP BY l.program_code, l.fiscal_year""")


def site_counts(sites: pd.DataFrame) -> pd.DataFrame:
    """Outputs (client-months) and outcomes (participant-months achieving the outcome) per programme and year."""
    columns = ["program_code", "fiscal_year", "role", "units", "label"]
    if sites.empty:
        return pd.DataFrame(columns=columns)
    frame = sites.assign(achieved=sites["enrollment"] * sites["outcome_value"] / 100.0)
    totals = frame.groupby(["program_code", "fiscal_year"], as_index=False).agg(output=("enrollment", "sum"), outcome=("achieved", "sum"))
    outputs = totals.assign(role="output", units=totals["output"], label=SITE_OUTPUT_LABEL)
    outcomes = totals.assign(role="outcome", units=totals["outcome"], label=SITE_OUTCOME_LABEL)
    return pd.concat([outputs, outcomes], ignore_index=True)[columns]


def kpi_counts(kpis: pd.DataFrame, measures: pd.DataFrame, registry) -> pd.DataFrame:
    """Counted measures of ``programme_measures.csv`` per programme and year, from the KPI status table."""
    columns = ["program_code", "fiscal_year", "role", "units", "label"]
    counted = measures[measures["count_from"] != ""]
    if counted.empty or kpis.empty:
        return pd.DataFrame(columns=columns)
    rows = []
    for measure in counted.itertuples():
        series = kpis[kpis["kpi_id"] == measure.kpi_id]
        if series.empty:
            continue
        fytd = measure.kpi_id in registry.kpis and registry.kpis[measure.kpi_id].grain == "fytd"
        for year, months in series.groupby("fiscal_year"):
            values = months.sort_values("period")[measure.count_from].astype("float64")
            units = values.dropna().iloc[-1] if fytd and values.notna().any() else values.sum(min_count=1)
            rows.append({"program_code": measure.program_code, "fiscal_year": int(year), "role": measure.role,
                         "units": units, "label": measure.count_label})
    return pd.DataFrame(rows, columns=columns)


def _change_pct(frame: pd.DataFrame, column: str, only_complete: bool = False) -> pd.Series:
    """% change from the programme's previous fiscal year (consecutive years only)."""
    ordered = frame.sort_values(["program_code", "fiscal_year"])
    previous = ordered.groupby("program_code")[column].shift(1)
    previous_year = ordered.groupby("program_code")["fiscal_year"].shift(1)
    valid = (previous_year == ordered["fiscal_year"] - 1) & previous.notna() & (previous != 0)
    if only_complete:
        complete = ordered["fiscal_year_complete"].astype(bool)
        valid &= complete & ordered.groupby("program_code")["fiscal_year_complete"].shift(1).fillna(False).astype(bool)
    change = (ordered[column] - previous) / previous.abs() * 100.0
    return change.where(valid).reindex(frame.index)


def cost_effectiveness(budget: pd.DataFrame, spending: pd.DataFrame, counts: pd.DataFrame,
                       index: pd.DataFrame, peer_ratios: pd.DataFrame) -> pd.DataFrame:
    """The metrics.programme_cost_effectiveness table from its parts (all plain DataFrames).

    ``budget``: program_code, fiscal_year, program_name, department_code, adopted_budget, revised_budget;
    ``spending``: program_code, fiscal_year, actual_spending, months_posted (+ ledger_department_code);
    ``counts``: program_code, fiscal_year, role (output|outcome), units, label;
    ``index``: program_code, fiscal_year, outcome_index, outcome_measures;
    ``peer_ratios``: function_code (= department code), fiscal_year, ratio_to_peer_median, flag.
    """
    frame = budget.merge(spending, on=["program_code", "fiscal_year"], how="outer")
    if "ledger_department_code" in frame:
        frame["department_code"] = frame["department_code"].fillna(frame["ledger_department_code"])
    frame["program_name"] = frame.groupby("program_code")["program_name"].transform(lambda s: s.ffill().bfill())
    frame["program_name"] = frame["program_name"].fillna(frame["program_code"])
    frame["actual_spending"] = frame["actual_spending"].astype("float64").fillna(0.0)
    # a year with a budget but no ledger line yet: the months posted citywide still apply
    months_by_year = spending.groupby("fiscal_year")["months_posted"].max() if len(spending) else pd.Series(dtype="float64")
    frame["months_posted"] = frame["months_posted"].fillna(frame["fiscal_year"].map(months_by_year)).fillna(0).astype("int64")
    frame["fiscal_year_complete"] = frame["months_posted"] >= 12
    prorated = frame["revised_budget"] * frame["months_posted"] / 12.0
    frame["execution_pct"] = (frame["actual_spending"] / prorated.where(prorated > 0) * 100.0).astype("float64")

    for role in ("output", "outcome"):
        part = counts[counts["role"] == role][["program_code", "fiscal_year", "units", "label"]]
        part = part.rename(columns={"units": f"{role}_units", "label": f"{role}_measure"})
        frame = frame.merge(part, on=["program_code", "fiscal_year"], how="left")
        units = frame[f"{role}_units"].astype("float64")
        frame[f"cost_per_{role}"] = frame["actual_spending"] / units.where(units > 0)

    frame = frame.merge(index.rename(columns={"outcome_measures": "outcome_basis"})[
        ["program_code", "fiscal_year", "outcome_index", "outcome_basis"]], on=["program_code", "fiscal_year"], how="left")
    frame = frame.merge(peer_ratios.rename(columns={"function_code": "department_code"})[
        ["department_code", "fiscal_year", "ratio_to_peer_median", "flag"]].rename(columns={"flag": "peer_flag"}),
        on=["department_code", "fiscal_year"], how="left")
    frame["outcome_per_dollar"] = outcome_per_dollar(frame["outcome_index"], frame["ratio_to_peer_median"],
                                                     frame["peer_flag"], frame["execution_pct"])

    frame = frame.reset_index(drop=True)
    frame["spending_change_pct"] = _change_pct(frame, "actual_spending", only_complete=True)
    frame["cost_per_output_change_pct"] = _change_pct(frame, "cost_per_output")
    frame["cost_per_outcome_change_pct"] = _change_pct(frame, "cost_per_outcome")
    result = frame[CE_COLUMNS].sort_values(["department_code", "program_code", "fiscal_year"]).reset_index(drop=True)
    return result.astype({"fiscal_year": "int64", "outcome_index": "float64", "ratio_to_peer_median": "float64",
                          "output_units": "float64", "outcome_units": "float64", "cost_per_output": "float64",
                          "cost_per_outcome": "float64", "outcome_per_dollar": "float64"})


def outcome_per_dollar(index: pd.Series, peer_ratio: pd.Series, peer_flag: pd.Series, execution_pct: pd.Series) -> pd.Series:
    """index x peer factor / execution share. Peer factor = 1 / peer ratio where the function is flagged above
    peers, else 1; no outcome index or no execution = NaN."""
    index = pd.to_numeric(index, errors="coerce").astype("float64")
    ratio = pd.to_numeric(peer_ratio, errors="coerce").astype("float64")
    execution = pd.to_numeric(execution_pct, errors="coerce").astype("float64") / 100.0
    flagged = pd.Series(peer_flag, index=index.index).eq(ABOVE).fillna(False).astype(bool)
    peer_factor = (1.0 / ratio).where(flagged & (ratio > 1), 1.0).fillna(1.0)
    return index * peer_factor / execution.where(execution > 0)


def peer_ratio_table(benchmarks: pd.DataFrame) -> pd.DataFrame:
    compared = benchmarks[benchmarks["peer_count"] >= MIN_PEERS]
    return compared[["function_code", "fiscal_year", "ratio_to_peer_median", "flag"]]


def programme_cost_effectiveness(con: duckdb.DuckDBPyConnection, data: OutcomeData, benchmarks: pd.DataFrame) -> pd.DataFrame:
    """metrics.programme_cost_effectiveness."""
    counts = pd.concat([site_counts(data.sites), kpi_counts(data.kpis, data.measures, data.registry)], ignore_index=True)
    index = outcome_index(data.scores, ["program_code", "fiscal_year"])
    return cost_effectiveness(read_budget(con), read_spending(con), counts, index, peer_ratio_table(benchmarks))
