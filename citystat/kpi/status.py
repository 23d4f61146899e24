"""The status engine: met / RAG / score / trend / period-over-period flag for every KPI and period.

Each rule is a small pure function (so tests check them one by one); ``evaluate`` applies them to a prepared
long series (``series.prepare``). The rules, and the public practice each follows, are in docs/kpi_rules.md:
NYC Mayor's Management Report (desired direction, target, met, trend against last year and the 3- and 5-year
averages), LouieStat (green meets, yellow within 10%, red beyond, gray = not enough data), Boston CityScore
(score = value / target, inverted when lower is better, capped).
"""
from __future__ import annotations

import math

import pandas as pd

from citystat.kpi.periods import parse_period

DEFAULT_SCORE_CAP = 1.25
# Float noise must not push a KPI exactly on target or exactly on a band edge to the other side.
_REL_TOL = 1e-9

GREEN, YELLOW, RED, GRAY = "green", "yellow", "red", "gray"
DEFAULT_PROFILE, MMR_PROFILE = "default", "mmr"
PROFILES = (DEFAULT_PROFILE, MMR_PROFILE)
# how the period-over-period comparison was made (docs/kpi_rules.md, "Period over period")
PREVIOUS_PERIOD, SAME_PERIOD_LAST_YEAR = "previous period", "same period last year"
IMPROVING, NOT_IMPROVING, INSUFFICIENT = "improving", "not improving", "insufficient data"

STATUS_COLUMNS = [
    "kpi_id", "name", "department_code", "period", "fiscal_year", "value", "target", "target_basis",
    "desired_direction", "critical", "met", "status", "status_reason", "distance_from_target", "score",
    "periods_with_data", "previous_period", "previous_value", "gap_periods", "relative_change",
    "change_direction", "flag_threshold", "pop_flag", "last_year_value", "trend_vs_last_year",
    "avg_3yr", "trend_vs_3yr_avg", "avg_5yr", "trend_vs_5yr_avg", "rules_profile", "comparison_basis", "ytd_value", "gray_reason",
]


def _blank(x) -> bool:
    return x is None or (isinstance(x, float) and math.isnan(x))


def _same(a: float, b: float) -> bool:
    return math.isclose(a, b, rel_tol=_REL_TOL, abs_tol=1e-12)


def met_target(value: float | None, target: float | None, direction: str) -> bool | None:
    """MMR: up and value >= target, or down and value <= target. None = no call (no value, no target, direction none)."""
    if _blank(value) or _blank(target) or direction not in ("up", "down"):
        return None
    if _same(value, target):
        return True
    return value > target if direction == "up" else value < target


def distance_from_target(value: float, target: float) -> float:
    """|value - target| / |target|; a zero target makes any other value infinitely far."""
    if _same(value, target):
        return 0.0
    if target == 0:
        return math.inf
    return abs(value - target) / abs(target)


def rag_status(value: float | None, target: float | None, direction: str, yellow_band: float,
               red_band: float | None = None, periods_with_data: int = 1, min_periods: int = 1) -> tuple[str, str]:
    """(status, reason). Green meets or beats; yellow is on the wrong side within the band; red beyond; gray no call.

    The yellow/red edge is ``red_band`` when set (it may only widen the yellow zone), else ``yellow_band``;
    a distance exactly on the edge is still yellow.
    """
    if _blank(value):
        return GRAY, "no data for the period (missing value or zero denominator)"
    if direction not in ("up", "down"):
        return GRAY, "tracked: desired direction none (a volume read beside its outcome), no target call"
    if _blank(target):
        return GRAY, "no target for the fiscal year"
    if periods_with_data < min_periods:
        return GRAY, f"only {periods_with_data} period(s) of data, {min_periods} needed"
    if met_target(value, target, direction):
        return GREEN, "meets or beats target"
    edge = red_band if not _blank(red_band) else yellow_band
    distance = distance_from_target(value, target)
    side = "below" if direction == "up" else "above"
    described = "target is 0" if math.isinf(distance) else f"{distance:.1%} {side} target"
    if distance <= edge + _REL_TOL:
        return YELLOW, f"{described} (within the {edge:.0%} band)"
    return RED, f"{described} (beyond the {edge:.0%} band)"


def gray_reason(value, target, direction: str, periods_with_data: int, min_periods: int) -> str:
    """Why a status is gray, in the words the pages show: a volume KPI with 40 months of data is 'tracked', never
    'not enough data'."""
    if _blank(value):
        return "no data"
    if direction not in ("up", "down"):
        return "tracked (direction none)"
    if _blank(target):
        return "no target"
    return "too few periods"


def cityscore(value: float | None, target: float | None, direction: str, cap: float = DEFAULT_SCORE_CAP) -> float | None:
    """Boston CityScore: value / target (target / value when lower is better), 1.0 = on target, within [0, cap].

    Zeros: up with target 0 scores the cap for any positive value; down with value 0 scores the cap for any positive
    target; 0 against 0 is 1.0. Negative values or targets get no score (a ratio of them means nothing).
    """
    if _blank(value) or _blank(target) or direction not in ("up", "down"):
        return None
    if value < 0 or target < 0:
        return None
    numerator, denominator = (value, target) if direction == "up" else (target, value)
    if denominator == 0:
        return 1.0 if numerator == 0 else cap
    return min(max(numerator / denominator, 0.0), cap)


def judge_trend(value: float | None, reference: float | None, direction: str, ties_improve: bool = False) -> str | None:
    """Improving if the value moved the desired way from the reference; flat counts as not improving, unless
    ``ties_improve`` (the MMR profile: an unchanged value is "not worse", counted as improving).

    None for direction none (no call, as the MMR); 'insufficient data' when either side is missing.
    """
    if direction not in ("up", "down"):
        return None
    if _blank(value) or _blank(reference):
        return INSUFFICIENT
    if _same(value, reference):
        return IMPROVING if ties_improve else NOT_IMPROVING
    better = value > reference if direction == "up" else value < reference
    return IMPROVING if better else NOT_IMPROVING


def relative_change(value: float, previous: float) -> float | None:
    """(value - previous) / |previous|; None when previous is 0 and value is not (an unbounded move)."""
    if _same(value, previous):
        return 0.0
    if previous == 0:
        return None
    return (value - previous) / abs(previous)


def change_flagged(value: float, previous: float, threshold: float) -> bool:
    """Flag a move of at least ``threshold`` either way; any move away from a zero previous value is flagged."""
    change = relative_change(value, previous)
    if change is None:
        return True
    return abs(change) >= threshold - _REL_TOL


def change_direction(value: float, previous: float, direction: str) -> str:
    if _same(value, previous):
        return "flat"
    up = value > previous
    if direction == "up":
        return "better" if up else "worse"
    if direction == "down":
        return "worse" if up else "better"
    return "up" if up else "down"


def _prior_year_average(values: dict, period, years: int, available: bool = False) -> float | None:
    """Mean of the same period in each of the ``years`` prior years.

    Default profile: None unless all of them have a value. ``available`` (MMR profile): the mean over the prior
    years that have a value, None when none has."""
    prior = [values.get(period.years_earlier(n)) for n in range(1, years + 1)]
    present = [v for v in prior if not _blank(v)]
    if available:
        return sum(present) / len(present) if present else None
    if len(present) < years:
        return None
    return sum(prior) / years


def comparison_period(period, previous, values: dict, grain: str | None):
    """The (period, value) a period's value is compared with, and how: (previous, basis) or (None, None).

    Monthly values compare with the latest earlier period that has a value. Fiscal-year-to-date values
    (grain fytd) restart on July 1, so they compare month over month only within a fiscal year; the first value
    of a fiscal year (July, or a later month when the months before it are missing) compares with the same month
    a year earlier, which is year to date through the same fiscal month, and with nothing when that is missing.
    Never with the previous year's June total."""
    prior = previous
    if grain != "fytd" or period.grain != "month":
        return (prior, PREVIOUS_PERIOD) if prior is not None else (None, None)
    if prior is not None and prior[0].fiscal_year == period.fiscal_year:
        return prior, PREVIOUS_PERIOD
    year_ago = period.years_earlier(1)
    if not _blank(values.get(year_ago)):
        return (year_ago, values[year_ago]), SAME_PERIOD_LAST_YEAR
    return None, None


def ytd_average(values: dict, period) -> float | None:
    """MMR profile, monthly KPIs: the fiscal year to date value = the mean of the fiscal year's monthly values with
    data up to and including ``period`` (None when the period itself has no value)."""
    if _blank(values.get(period)):
        return None
    months = [v for p, v in values.items() if p.grain == "month" and p.fiscal_year == period.fiscal_year
              and p <= period and not _blank(v)]
    return sum(months) / len(months) if months else None


def _nullable(x):
    return None if _blank(x) else x


def evaluate(prepared: pd.DataFrame, score_cap: float = DEFAULT_SCORE_CAP, rules: str | None = None) -> pd.DataFrame:
    """Apply every rule to a prepared series (series.prepare); one output row per input row.

    ``rules`` (default | mmr) overrides every KPI's own profile (the prepared ``rules_profile`` column, from the
    registry; default when absent). The mmr profile (NYC Comptroller's evaluation of the MMR): met and colour on
    the fiscal-year-to-date value, an unchanged value counts as improving, 3- and 5-year averages over the prior
    years available."""
    if rules is not None and rules not in PROFILES:
        raise ValueError(f"rules {rules!r} is not one of {', '.join(PROFILES)}")
    out = []
    frame = prepared.copy()
    frame["period_key"] = frame["period"].map(parse_period)
    for column, default in (("grain", "month"), ("rules_profile", DEFAULT_PROFILE)):
        if column not in frame.columns:
            frame[column] = default
    for _, group in frame.groupby("kpi_id", sort=True):
        group = group.sort_values("period_key")
        values = {row.period_key: _nullable(row.value) for row in group.itertuples()}
        periods_with_data = 0
        previous = None  # the latest earlier period that has a value
        for row in group.itertuples():
            value, target = _nullable(row.value), _nullable(row.target)
            direction = row.desired_direction
            period = row.period_key
            grain = _nullable(row.grain) or "month"
            profile = rules or _nullable(row.rules_profile) or DEFAULT_PROFILE
            mmr = profile == MMR_PROFILE
            if value is not None:
                periods_with_data += 1
            # MMR: met and colour on the fiscal-year-to-date value (fytd KPIs already are; monthly ones averaged)
            ytd = value if grain == "fytd" or period.grain != "month" else ytd_average(values, period)
            judged = ytd if mmr else value
            status, reason = rag_status(judged, target, direction, float(row.yellow_band), _nullable(row.red_band),
                                        periods_with_data, int(row.min_periods_for_status))
            if mmr and judged is not None and status != GRAY:
                reason = f"fiscal year to date {judged:.4g}: {reason}"
            result = {
                "kpi_id": row.kpi_id, "name": row.name, "department_code": _nullable(row.department_code),
                "period": period.label, "fiscal_year": period.fiscal_year, "value": value, "target": target,
                "target_basis": _nullable(row.target_basis), "desired_direction": direction,
                "critical": bool(row.critical), "met": met_target(judged, target, direction),
                "status": status, "status_reason": reason,
                "distance_from_target": None if judged is None or target is None else distance_from_target(judged, target),
                "score": cityscore(value, target, direction, score_cap),
                "periods_with_data": periods_with_data, "flag_threshold": float(row.flag_threshold),
                "previous_period": None, "previous_value": None, "gap_periods": None,
                "relative_change": None, "change_direction": None, "pop_flag": False,
                "rules_profile": profile, "comparison_basis": None, "ytd_value": ytd,
                "gray_reason": gray_reason(judged, target, direction, periods_with_data,
                                           int(row.min_periods_for_status)) if status == GRAY else None,
            }
            compared, basis = comparison_period(period, previous, values, grain)
            if value is not None and compared is not None:
                prev_period, prev_value = compared
                result.update(
                    comparison_basis=basis,
                    previous_period=prev_period.label,
                    previous_value=prev_value,
                    gap_periods=period.ordinal - prev_period.ordinal - 1,
                    relative_change=relative_change(value, prev_value),
                    change_direction=change_direction(value, prev_value, direction),
                    pop_flag=change_flagged(value, prev_value, float(row.flag_threshold)),
                )
            last_year = values.get(period.years_earlier(1))
            avg_3 = _prior_year_average(values, period, 3, available=mmr)
            avg_5 = _prior_year_average(values, period, 5, available=mmr)
            result.update(
                last_year_value=last_year,
                trend_vs_last_year=judge_trend(value, last_year, direction, ties_improve=mmr),
                avg_3yr=avg_3,
                trend_vs_3yr_avg=judge_trend(value, avg_3, direction, ties_improve=mmr),
                avg_5yr=avg_5,
                trend_vs_5yr_avg=judge_trend(value, avg_5, direction, ties_improve=mmr),
            )
            if value is not None:
                previous = (period, value)
            out.append(result)
    result = pd.DataFrame(out, columns=STATUS_COLUMNS)
    return result.astype({"value": "float64", "target": "float64", "score": "float64",
                          "relative_change": "float64", "previous_value": "float64",
                          "distance_from_target": "float64", "last_year_value": "float64",
                          "avg_3yr": "float64", "avg_5yr": "float64", "ytd_value": "float64", "gap_periods": "Int64",
                          "periods_with_data": "int64", "fiscal_year": "int64"})
