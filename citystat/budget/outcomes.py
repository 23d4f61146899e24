"""Outcomes as the budget metrics see them: human-services sites and outcome KPIs judged by the KPI status
engine (orchestration/kpi/status.py, rules in docs/kpi_rules.md), and each programme's outcome index.

* A **site** (a senior or child-care centre) is judged on its own ``outcome_value`` against its
  ``outcome_target`` month by month, with the engine's default bands (red beyond 10% below target).
* An **outcome KPI** is judged exactly as ``citystat kpi status`` judges it (registry targets and bands), from
  ``marts.kpi_values`` (computed) and ``marts.fct_kpi_submissions`` (submitted).
* A programme's **outcome index** is the mean CityScore-style score (value / target, inverted when lower is
  better, capped at 1.25; 1.0 = on target) of its outcome measures: its sites (weighted by enrollment) when it
  has sites, else the KPIs ``programme_measures.csv`` maps to it with role ``outcome``, else its department's
  outcome KPIs in the registry.
"""
from __future__ import annotations

import csv
from pathlib import Path

import duckdb
import pandas as pd

from citystat.warehouse import has_table, read, require, value_at_max
from citystat.kpi.periods import month, parse_period
from citystat.kpi.problems import Problem, ValidationError, where
from citystat.kpi.registry import Registry, shipped_kpis_the_city_lacks
from citystat.kpi.series import prepare, records_from_frame
from citystat.kpi.status import evaluate

SITE_MART = "marts.fct_programme_site_outcomes"
SITE_COLUMNS = ("site_id", "site_name", "program_code", "service_area", "month_start", "capacity", "enrollment",
                "outcome_measure", "outcome_target", "outcome_value", "monthly_cost")
KPI_MART = "marts.kpi_values"
SUBMISSIONS_MART = "marts.fct_kpi_submissions"
KPI_COLUMNS = ("kpi_id", "department_code", "period_month", "numerator", "denominator", "value")
MEASURES_PATH = Path(__file__).with_name("programme_measures.csv")
MEASURE_COLUMNS = ("program_code", "kpi_id", "role", "count_from", "count_label")
ROLES = ("output", "outcome")
COUNT_FROM = ("value", "numerator")
TRAILING_MONTHS = 12


# --- periods -------------------------------------------------------------------------------------------------

def month_label(ordinal: int) -> str:
    return month(ordinal // 12, ordinal % 12 + 1).label


def month_ordinal(label: str) -> int:
    return parse_period(label).ordinal


def trailing_window(latest: str, months: int) -> list[str]:
    """The ``months`` month labels ending with ``latest`` (oldest first)."""
    end = month_ordinal(latest)
    return [month_label(o) for o in range(end - months + 1, end + 1)]


# --- sites ---------------------------------------------------------------------------------------------------

def read_sites(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """Site-months from the human-services mart. A site keeps the name, programme and service area of its latest
    month (so a mistyped code in one month cannot split it in two)."""
    require(con, SITE_MART, SITE_COLUMNS, "the budget metrics (site outcomes)")
    # department from the programme dimension; a programme code starts with its department code otherwise
    with_programmes = has_table(con, "marts.dim_program")
    department = ("coalesce(p.department_code, split_part(l.program_code, '_', 1))" if with_programmes
                  else "split_part(l.program_code, '_', 1)")
    join = "LEFT JOIN marts.dim_program p ON p.program_code = l.program_code" if with_programmes else ""
    frame = read(con, f"""
        WITH latest AS (
            SELECT site_id, {value_at_max(con, "site_name", "month_start")} AS site_name,
                   {value_at_max(con, "program_code", "month_start")} AS program_code,
                   {value_at_max(con, "service_area", "month_start")} AS service_area
            FROM {SITE_MART} GROUP BY site_id
        )
        SELECT m.site_id, l.site_name, l.program_code, {department} AS department_code, l.service_area,
               substr(CAST(m.month_start AS VARCHAR), 1, 7) AS period, m.capacity, m.enrollment, m.outcome_measure,
               m.outcome_target, m.outcome_value, m.monthly_cost
        FROM {SITE_MART} m JOIN latest l USING (site_id)
        {join}
        WHERE m.month_start IS NOT NULL AND m.site_id IS NOT NULL""")
    # ordered here: PostgreSQL's ORDER BY sorts text by the database's collation, DuckDB's by code point
    frame = frame.sort_values(["site_id", "period"], kind="stable", ignore_index=True)
    return frame.astype({"capacity": "float64", "enrollment": "float64", "outcome_target": "float64",
                         "outcome_value": "float64", "monthly_cost": "float64"})


def site_status(sites: pd.DataFrame) -> pd.DataFrame:
    """The status engine on each site's outcome against its own target; one row per site-month, with the site's
    columns beside the engine's (status, status_reason, score, ...)."""
    if sites.empty:
        return sites.assign(status=pd.Series(dtype="object"), status_reason=pd.Series(dtype="object"),
                            score=pd.Series(dtype="float64"), fiscal_year=pd.Series(dtype="int64"))
    series = pd.DataFrame({"kpi_id": sites["site_id"], "period": sites["period"], "value": sites["outcome_value"],
                           "target": sites["outcome_target"], "desired_direction": "up",
                           "department_code": sites["department_code"]})
    table = evaluate(prepare(records_from_frame(series, SITE_MART)))
    engine = table[["kpi_id", "period", "fiscal_year", "status", "status_reason", "score", "met", "distance_from_target"]]
    return sites.merge(engine.rename(columns={"kpi_id": "site_id"}), on=["site_id", "period"], how="left")


# --- KPIs ----------------------------------------------------------------------------------------------------

def read_kpi_values(con: duckdb.DuckDBPyConnection, registry: Registry) -> pd.DataFrame:
    """Computed (kpi_values) and submitted (fct_kpi_submissions) values of registry KPIs, one row per KPI and
    month. Either mart may be missing (the outcome index then rests on what is there)."""
    parts = []
    for table in (KPI_MART, SUBMISSIONS_MART):
        if has_table(con, table):
            require(con, table, KPI_COLUMNS, "the budget metrics (outcome KPIs)")
            parts.append(f"SELECT kpi_id, department_code, substr(CAST(period_month AS VARCHAR), 1, 7) AS period, "
                         f"CAST(numerator AS DOUBLE PRECISION) AS numerator, "
                         f"CAST(denominator AS DOUBLE PRECISION) AS denominator, "
                         f"CAST(value AS DOUBLE PRECISION) AS value FROM {table} WHERE period_month IS NOT NULL")
    if not parts:
        return pd.DataFrame(columns=["kpi_id", "department_code", "period", "numerator", "denominator", "value"])
    frame = read(con, " UNION ALL ".join(parts))
    return frame[frame["kpi_id"].isin(registry.kpis)].reset_index(drop=True)


def kpi_status(values: pd.DataFrame, registry: Registry) -> pd.DataFrame:
    """The status engine on the KPI values with the registry's targets and bands (as `citystat kpi status`)."""
    columns = ["kpi_id", "period", "fiscal_year", "name", "department_code", "value", "target", "status",
               "status_reason", "score", "desired_direction", "numerator", "denominator"]
    if values.empty:
        return pd.DataFrame(columns=columns)
    records = records_from_frame(values[["kpi_id", "period", "value", "department_code"]], "kpi values")
    table = evaluate(prepare(records, registry))
    table = table.merge(values[["kpi_id", "period", "numerator", "denominator"]], on=["kpi_id", "period"], how="left")
    return table[columns]


# --- programme measures --------------------------------------------------------------------------------------

def load_measures(registry: Registry, path: Path | None = None) -> pd.DataFrame:
    """``programme_measures.csv``: which KPI counts a programme's outputs / outcomes. Every problem is reported
    with file, line and field."""
    path = Path(path or MEASURES_PATH)
    if not path.exists():
        raise FileNotFoundError(f"{path}: file not found")
    problems: list[Problem] = []
    rows = []
    with path.open(newline="", encoding="utf-8-sig") as handle:
        reader = csv.DictReader(handle)
        missing = [c for c in MEASURE_COLUMNS if c not in (reader.fieldnames or [])]
        if missing:
            raise ValidationError(f"programme measures {path}", [Problem(where(str(path), 1), "header", f"missing column(s) {', '.join(missing)}")])
        seen: dict[tuple[str, str], int] = {}
        counted_at: dict[tuple[str, str], int] = {}
        elsewhere = shipped_kpis_the_city_lacks()
        for row in reader:
            at = where(str(path), reader.line_num)
            row = {k: (row.get(k) or "").strip() for k in MEASURE_COLUMNS}
            if row["kpi_id"] in elsewhere:  # a demo programme's measure, of a department another city does not have
                continue
            if not row["program_code"]:
                problems.append(Problem(at, "program_code", "is required"))
            if row["kpi_id"] not in registry.kpis:
                problems.append(Problem(at, "kpi_id", f"{row['kpi_id']!r} is not a KPI in the registry"))
            if row["role"] not in ROLES:
                problems.append(Problem(at, "role", f"{row['role']!r} is not one of {', '.join(ROLES)}"))
            if row["count_from"] and row["count_from"] not in COUNT_FROM:
                problems.append(Problem(at, "count_from", f"{row['count_from']!r} is not one of {', '.join(COUNT_FROM)} (or empty)"))
            if row["count_from"] and not row["count_label"]:
                problems.append(Problem(at, "count_label", "is required when count_from is set (what is counted)"))
            counted = (row["program_code"], row["role"])
            if row["count_from"] and counted in counted_at:
                problems.append(Problem(at, "count_from", f"{counted[0]} already has a counted {counted[1]} (line {counted_at[counted]}); "
                                                          "one counted measure per programme and role"))
            if row["count_from"]:
                counted_at[counted] = reader.line_num
            key = (row["program_code"], row["kpi_id"])
            if key in seen:
                problems.append(Problem(at, "kpi_id", f"{key[1]} is mapped to {key[0]} twice (first on line {seen[key]})"))
            seen[key] = reader.line_num
            rows.append(row)
    if problems:
        raise ValidationError(f"programme measures {path}", problems)
    return pd.DataFrame(rows, columns=list(MEASURE_COLUMNS))


def programme_outcome_kpis(programmes: pd.DataFrame, registry: Registry, measures: pd.DataFrame,
                           site_programmes: set[str]) -> pd.DataFrame:
    """Which outcome KPIs judge each programme: ``program_code, kpi_id, basis``. Programmes with sites are judged
    by their sites (no KPI rows); else the mapped outcome KPIs; else the department's directed outcome KPIs."""
    mapped = measures[measures["role"] == "outcome"]
    rows = []
    for programme in programmes[["program_code", "department_code"]].drop_duplicates().itertuples():
        if programme.program_code in site_programmes:
            continue
        own = mapped[mapped["program_code"] == programme.program_code]["kpi_id"].tolist()
        if own:
            rows += [{"program_code": programme.program_code, "kpi_id": k, "basis": "mapped"} for k in own]
            continue
        rows += [{"program_code": programme.program_code, "kpi_id": k.id, "basis": "department"}
                 for k in registry.kpis.values()
                 if k.department_code == programme.department_code and k.kind == "outcome" and k.desired_direction != "none"]
    return pd.DataFrame(rows, columns=["program_code", "kpi_id", "basis"])


def monthly_scores(sites: pd.DataFrame, kpis: pd.DataFrame, outcome_kpis: pd.DataFrame) -> pd.DataFrame:
    """Scores feeding the outcome index: ``program_code, period, fiscal_year, measure, score, weight``.
    Site scores weigh by enrollment (a big centre's result counts for more residents); KPI scores weigh 1."""
    columns = ["program_code", "period", "fiscal_year", "measure", "score", "weight"]
    parts = []
    if len(sites):
        site_rows = sites.loc[sites["score"].notna(), ["program_code", "period", "fiscal_year", "site_id", "score", "enrollment"]]
        parts.append(site_rows.rename(columns={"site_id": "measure", "enrollment": "weight"}))
    if len(kpis) and len(outcome_kpis):
        kpi_rows = outcome_kpis.merge(kpis[kpis["score"].notna()], on="kpi_id")
        parts.append(kpi_rows[["program_code", "period", "fiscal_year", "kpi_id", "score"]]
                     .rename(columns={"kpi_id": "measure"}).assign(weight=1.0))
    parts = [p for p in parts if len(p)]
    if not parts:
        return pd.DataFrame(columns=columns)
    scores = pd.concat(parts, ignore_index=True)[columns]
    scores["weight"] = scores["weight"].astype("float64").fillna(0.0)
    scores["score"] = scores["score"].astype("float64")
    return scores


def _weighted(group: pd.DataFrame) -> pd.Series:
    weight = group["weight"].where(group["weight"] > 0, 0.0)
    total = weight.sum()
    index = (group["score"] * weight).sum() / total if total > 0 else group["score"].mean()
    return pd.Series({"outcome_index": index, "outcome_measures": ", ".join(sorted(set(group["measure"]))),
                      "outcome_months": group["period"].nunique()})


def outcome_index(scores: pd.DataFrame, by: list[str]) -> pd.DataFrame:
    """Weighted mean score per group (e.g. programme and fiscal year)."""
    if scores.empty:
        return pd.DataFrame(columns=[*by, "outcome_index", "outcome_measures", "outcome_months"])
    return scores.groupby(by, sort=True)[["score", "weight", "measure", "period"]].apply(_weighted).reset_index()


def trailing_outcome_index(scores: pd.DataFrame, months: int = TRAILING_MONTHS) -> pd.DataFrame:
    """Outcome index per programme over the ``months`` months ending at the latest month with a score."""
    if scores.empty:
        return outcome_index(scores, ["program_code"])
    latest = month_label(max(month_ordinal(p) for p in scores["period"].unique()))
    window = set(trailing_window(latest, months))
    return outcome_index(scores[scores["period"].isin(window)], ["program_code"])


class OutcomeData:
    """Everything outcome-related the budget metrics share, read once from a warehouse connection."""

    def __init__(self, con: duckdb.DuckDBPyConnection, registry: Registry, measures: pd.DataFrame | None = None,
                 programmes: pd.DataFrame | None = None):
        self.registry = registry
        self.measures = measures if measures is not None else load_measures(registry)
        self.sites = site_status(read_sites(con))
        self.kpi_values = read_kpi_values(con, registry)
        self.kpis = kpi_status(self.kpi_values, registry)
        if programmes is None:
            programmes = read(con, "SELECT DISTINCT program_code, department_code FROM marts.dim_program") \
                if has_table(con, "marts.dim_program") else self.sites[["program_code", "department_code"]].drop_duplicates()
        self.programmes = programmes
        self.outcome_kpis = programme_outcome_kpis(programmes, registry, self.measures, set(self.sites["program_code"]))
        self.scores = monthly_scores(self.sites, self.kpis, self.outcome_kpis)
