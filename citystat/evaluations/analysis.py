"""The analysis of a registered evaluation: assignment, balance on the pre-period, effects with 95% CIs, the
minimum detectable effect and a plain-language result. Methods: docs/evaluations.md.

* Units: every registered unit value (e.g. a ZIP code) x every period (week) of the window; a record belongs to
  the unit of its ``unit_column`` value and the period its ``date_column`` falls in.
* Assignment: ``randomized``: ``draw`` (a seeded permutation of the units, the first floor(share x n) treated)
  or the registry's ``treated`` list; ``phased``: a unit value is treated from its phase date on.
* Effect: OLS of the outcome on a treatment indicator (phased: plus period fixed effects) with standard errors
  clustered by the unit of assignment (statsmodels, ``cov_type="cluster"``), so records sharing a unit are not
  counted as independent; for a randomized design this is the difference in means with a cluster-robust CI.
* Balance: the same regression on the pre-period (the same length just before the start), each unit's
  pre-period being its value in the period the same number of periods before the start. Under a sound
  randomization the pre-period difference is noise; ``balanced`` is False when its p-value is below
  ``BALANCE_ALPHA``, and the result then says the estimate is not trustworthy.
* MDE: (z_{1-alpha/2} + z_{power}) x the effect's standard error, alpha 0.05, power 0.8: the smallest true effect
  the sample had an 80% chance to detect.
* No peeking: before the report date (end + follow-up) an evaluation is "in progress" and no effect is
  estimated; every registered outcome is reported (none selected by its result), exploratory ones labelled.
"""
from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass

import duckdb
import numpy as np
import pandas as pd

from citystat.evaluations.registry import Evaluation, Outcome
from citystat.warehouse import has_table, quote_identifier, quote_table, read, require

ALPHA = 0.05
POWER = 0.8
BALANCE_ALPHA = 0.05
PERIOD_DAYS = {"day": 1, "week": 7}


# ---- assignment ---------------------------------------------------------------------------------------------

def n_periods(evaluation: Evaluation) -> int:
    days = PERIOD_DAYS.get(evaluation.assignment.period)
    if not days:
        return 1
    return math.ceil(((evaluation.end - evaluation.start).days + 1) / days)


def unit_ids(evaluation: Evaluation) -> list[str]:
    """Every unit, values major and periods minor ("30101:0", "30101:1", ...; just the value without a period)."""
    a = evaluation.assignment
    if a.period in PERIOD_DAYS:
        return [f"{v}:{p}" for v in a.units for p in range(n_periods(evaluation))]
    return list(a.units)


def draw(seed: int, units: list[str], share: float = 0.5) -> set[str]:
    """The treated units: numpy ``default_rng(seed).permutation`` of the units, the first floor(share x n)."""
    order = np.random.default_rng(seed).permutation(len(units))
    return {units[i] for i in order[: int(share * len(units))]}


def assignments(evaluation: Evaluation) -> pd.DataFrame:
    """One row per unit: unit_id, unit_value, period_index, period_start, arm (treatment / control; phased: phase date)."""
    a = evaluation.assignment
    ids = unit_ids(evaluation)
    if a.method == "randomized":
        treated = set(a.treated) if a.treated else draw(a.seed, ids, a.share)
    else:
        treated = set()
    days = PERIOD_DAYS.get(a.period)
    rows = []
    for uid in ids:
        value, _, period = uid.rpartition(":") if days else (uid, "", "")
        index = int(period) if days else None
        rows.append({
            "evaluation_id": evaluation.evaluation_id, "unit_id": uid, "unit_value": value, "period_index": index,
            "period_start": evaluation.start + dt.timedelta(days=days * index) if days else evaluation.start,
            "arm": ("treatment" if uid in treated else "control") if a.method == "randomized" else "phased",
            "phase_start": dt.date.fromisoformat(a.phases[value]) if a.method == "phased" and value in a.phases else None,
        })
    return pd.DataFrame(rows)


# ---- data --------------------------------------------------------------------------------------------------

def pre_period(evaluation: Evaluation) -> tuple[dt.date, dt.date]:
    length = (evaluation.end - evaluation.start).days + 1
    days = PERIOD_DAYS.get(evaluation.assignment.period)
    if days:  # whole periods, so pre-period week k lines up with trial week k
        length = n_periods(evaluation) * days
    return evaluation.start - dt.timedelta(days=length), evaluation.start - dt.timedelta(days=1)


def outcome_records(con: duckdb.DuckDBPyConnection, evaluation: Evaluation, outcome: Outcome,
                    first: dt.date, last: dt.date) -> pd.DataFrame:
    """unit_value, day, y of the outcome's records dated first..last (inclusive) in the registered units."""
    a = evaluation.assignment
    columns = [a.unit_column, outcome.date_column, outcome.column, *outcome.where]
    require(con, outcome.dataset, columns, f"evaluation {evaluation.evaluation_id} ({outcome.name})")
    # the registry's values reach the query as named parameters (both engines: citystat.warehouse.read)
    params: dict = {"first": first, "last": last, **{f"unit_{i}": unit for i, unit in enumerate(a.units)}}
    where = [f"cast({quote_identifier(outcome.date_column)} as date) between :first and :last",
             f"cast({quote_identifier(a.unit_column)} as varchar) in ({', '.join(f':unit_{i}' for i in range(len(a.units)))})"]
    for i, (column, value) in enumerate(outcome.where.items()):
        where.append(f"{quote_identifier(column)} = :where_{i}")
        params[f"where_{i}"] = value
    # y as stored (PostgreSQL casts no boolean to a double) and made a number here, as DuckDB's cast did
    sql = (f"select cast({quote_identifier(a.unit_column)} as varchar) as unit_value, "
           f"cast({quote_identifier(outcome.date_column)} as date) as day, {quote_identifier(outcome.column)} as y "
           f"from {quote_table(outcome.dataset)} where {' and '.join(where)}")
    frame = read(con, sql, params)
    frame["y"] = pd.to_numeric(frame["y"].map(lambda v: None if v is None or v is pd.NA or v != v else float(v)),
                               errors="raise").astype("float64")
    if outcome.cap is not None:
        frame["y"] = frame["y"].clip(upper=float(outcome.cap))
    frame["day"] = pd.to_datetime(frame["day"]).dt.date
    return frame


def _label_units(evaluation: Evaluation, records: pd.DataFrame, origin: dt.date, units: pd.DataFrame,
                 shift_phases_by: int = 0) -> pd.DataFrame:
    """records with unit_id, period_index and treated (0/1), periods counted from ``origin``."""
    a = evaluation.assignment
    days = PERIOD_DAYS.get(a.period)
    out = records.copy()
    offset = np.asarray([(d - origin).days for d in out["day"]], dtype=int) if len(out) else np.empty(0, dtype=int)
    if days:
        out["period_index"] = offset // days
        out = out[(out["period_index"] >= 0) & (out["period_index"] < n_periods(evaluation))]
        out["unit_id"] = out["unit_value"] + ":" + out["period_index"].astype(str)
    else:
        out["period_index"] = 0
        out["unit_id"] = out["unit_value"]
    if a.method == "randomized":
        arm = dict(zip(units["unit_id"], units["arm"]))
        out["treated"] = (out["unit_id"].map(arm) == "treatment").astype(int)
    else:
        phase = {v: dt.date.fromisoformat(d) for v, d in a.phases.items()}
        shift = dt.timedelta(days=shift_phases_by)
        out["treated"] = [int(v in phase and day + shift >= phase[v]) for v, day in zip(out["unit_value"], out["day"])]
        out["unit_id"] = out["unit_value"]  # a stepped wedge clusters by the unit value
    return out


# ---- estimation --------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Estimate:
    n_treated: int
    n_control: int
    clusters: int
    mean_treated: float | None
    mean_control: float | None
    effect: float | None
    std_error: float | None
    ci_low: float | None
    ci_high: float | None
    p_value: float | None
    mde: float | None
    sd: float | None
    method: str


def estimate(frame: pd.DataFrame, fixed_effects: bool = False) -> Estimate:
    """OLS of y on treated (+ period fixed effects) with errors clustered by unit_id (statsmodels)."""
    import statsmodels.api as sm
    from scipy import stats

    frame = frame.dropna(subset=["y"])
    treated, control = frame[frame["treated"] == 1], frame[frame["treated"] == 0]
    method = "OLS, cluster-robust SE by unit" + (" with period fixed effects" if fixed_effects else "")
    base = dict(n_treated=len(treated), n_control=len(control), clusters=int(frame["unit_id"].nunique()),
                mean_treated=float(treated["y"].mean()) if len(treated) else None,
                mean_control=float(control["y"].mean()) if len(control) else None,
                sd=float(frame["y"].std()) if len(frame) > 1 else None, method=method)
    if len(treated) < 2 or len(control) < 2 or frame.groupby("treated")["unit_id"].nunique().min() < 2:
        return Estimate(**base, effect=None, std_error=None, ci_low=None, ci_high=None, p_value=None, mde=None)
    design = pd.DataFrame({"const": 1.0, "treated": frame["treated"].astype(float)}, index=frame.index)
    if fixed_effects:
        design = design.join(pd.get_dummies(frame["period_index"], prefix="p", drop_first=True, dtype=float))
    groups = pd.factorize(frame["unit_id"])[0]
    fit = sm.OLS(frame["y"].astype(float), design).fit(cov_type="cluster", cov_kwds={"groups": groups})
    low, high = fit.conf_int(alpha=ALPHA).loc["treated"]
    se = float(fit.bse["treated"])
    z = stats.norm.ppf(1 - ALPHA / 2) + stats.norm.ppf(POWER)
    return Estimate(**base, effect=float(fit.params["treated"]), std_error=se, ci_low=float(low), ci_high=float(high),
                    p_value=float(fit.pvalues["treated"]), mde=float(z * se))


# ---- wording -----------------------------------------------------------------------------------------------

def _scale(outcome: Outcome) -> tuple[float, str]:
    return (100.0, "percentage points") if outcome.unit == "share" else (1.0, outcome.unit or "units")


def outcome_label(outcome: Outcome) -> str:
    if outcome.primary:
        return "pre-registered primary"
    return "pre-registered secondary" if outcome.pre_registered else "exploratory"


def plain_result(evaluation: Evaluation, outcome: Outcome, est: Estimate, balanced: bool | None) -> str:
    factor, unit = _scale(outcome)
    label = outcome.label_text
    if outcome.primary:
        tail = "this is the pre-registered primary outcome."
    elif outcome.pre_registered:
        tail = "a pre-registered secondary outcome."
    else:
        tail = "EXPLORATORY (not pre-registered): a lead for a future test, not a finding."
    if est.effect is None:
        return f"{evaluation.title}: too few records in one arm to estimate the effect on {label}; {tail}"
    e, lo, hi, mde = (x * factor for x in (est.effect, est.ci_low, est.ci_high, est.mde))
    ci = f"95% CI {lo:+.2f} to {hi:+.2f}"
    if lo > 0 or hi < 0:
        better = (e < 0) == (outcome.desired_direction == "down")
        verb = "lowered" if e < 0 else "raised"
        text = (f"{evaluation.title} {verb} {label} by {abs(e):.2f} {unit} ({ci}), "
                f"{'an improvement' if better else 'a change for the worse'}; {tail}")
    else:
        text = (f"No detectable effect of {evaluation.title.lower()} on {label}: estimate {e:+.2f} {unit} ({ci}); "
                f"the study could detect a change of {mde:.2f} {unit} or more; {tail}")
    if balanced is False:
        text = ("WARNING: the pre-period is not balanced between the arms (the randomization may be broken); "
                "do not trust this estimate. " + text)
    return text


# ---- one evaluation -----------------------------------------------------------------------------------------

@dataclass
class EvaluationResult:
    results: pd.DataFrame
    balance: pd.DataFrame
    assignments: pd.DataFrame


def status_of(evaluation: Evaluation, as_of: dt.date) -> str:
    if as_of < evaluation.start:
        return "planned"
    if as_of < evaluation.report_date:
        return "in progress"
    return "reported"


def analyse(con: duckdb.DuckDBPyConnection, evaluation: Evaluation, as_of: dt.date) -> EvaluationResult:
    """Results, balance and assignment rows of one evaluation as of ``as_of``."""
    units = assignments(evaluation)
    status = status_of(evaluation, as_of)
    phased = evaluation.assignment.method == "phased"
    pre_start, pre_end = pre_period(evaluation)
    results, balance = [], []
    for outcome in evaluation.outcomes:
        row = {
            "evaluation_id": evaluation.evaluation_id, "title": evaluation.title, "outcome": outcome.name,
            "outcome_label": outcome.label_text, "dataset": outcome.dataset, "outcome_column": outcome.column,
            "outcome_unit": outcome.unit, "desired_direction": outcome.desired_direction,
            "label": outcome_label(outcome), "is_primary": outcome.primary, "pre_registered": outcome.pre_registered,
            "status": status, "as_of": as_of, "start_date": evaluation.start, "end_date": evaluation.end,
            "report_date": evaluation.report_date, "unit_of_assignment": evaluation.assignment.unit,
            "assignment_method": evaluation.assignment.method, "units_total": len(units),
            "units_treated": int((units["arm"] == "treatment").sum()) if not phased else None,
        }
        if status != "reported":
            row["result"] = (f"{evaluation.title}: {status}; results are not looked at before {evaluation.report_date} "
                             "(the end of the window plus the follow-up).")
            results.append(row)
            continue
        if not has_table(con, outcome.dataset):
            row["status"] = "no data"
            row["result"] = f"{evaluation.title}: {outcome.dataset} is not in the warehouse; nothing estimated."
            results.append(row)
            continue
        pre = _label_units(evaluation, outcome_records(con, evaluation, outcome, pre_start, pre_end), pre_start, units,
                           shift_phases_by=(evaluation.start - pre_start).days)
        post = _label_units(evaluation, outcome_records(con, evaluation, outcome, evaluation.start, evaluation.end),
                            evaluation.start, units)
        balanced = None
        if not phased:
            b = estimate(pre)
            balanced = None if b.p_value is None else bool(b.p_value >= BALANCE_ALPHA)
            balance.append({
                "evaluation_id": evaluation.evaluation_id, "outcome": outcome.name, "pre_start": pre_start,
                "pre_end": pre_end, "n_treated": b.n_treated, "n_control": b.n_control, "mean_treated": b.mean_treated,
                "mean_control": b.mean_control, "difference": b.effect, "ci_low": b.ci_low, "ci_high": b.ci_high,
                "p_value": b.p_value,
                "std_difference": (b.effect / b.sd) if b.effect is not None and b.sd else None,
                "balanced": balanced,
                "note": ("too few pre-period records to check" if balanced is None else
                         "balanced: the pre-period difference is what chance gives" if balanced else
                         f"IMBALANCED: the arms differed before the start (p = {b.p_value:.3f} < {BALANCE_ALPHA})"),
            })
        est = estimate(post, fixed_effects=phased)
        row.update({
            "n_treated": est.n_treated, "n_control": est.n_control,
            "n_missing_outcome": int(post["y"].isna().sum()), "clusters": est.clusters,
            "mean_treated": est.mean_treated, "mean_control": est.mean_control, "effect": est.effect,
            "std_error": est.std_error, "ci_low": est.ci_low, "ci_high": est.ci_high, "p_value": est.p_value,
            "mde": est.mde, "method": est.method, "balanced": balanced,
            "significant": None if est.p_value is None else bool(est.ci_low > 0 or est.ci_high < 0),
            "result": plain_result(evaluation, outcome, est, balanced),
        })
        results.append(row)
    return EvaluationResult(pd.DataFrame(results), pd.DataFrame(balance), units)
