"""Long-format KPI series: read and validate them, then fill targets and thresholds from the registry.

A series has one row per KPI and period: ``kpi_id, period, value`` and optionally ``target,
desired_direction, yellow_band, red_band, flag_threshold, min_periods_for_status, critical,
department_code`` (docs/kpi_rules.md, "Series input format"). Values in the row win over the
registry, the registry over the defaults.
"""
from __future__ import annotations

import csv
import math
from pathlib import Path

import pandas as pd

from citystat.kpi.periods import Period, parse_period
from citystat.kpi.problems import Problem, ValidationError, where
from citystat.kpi.registry import (
    DEFAULT_FLAG_THRESHOLD,
    DEFAULT_YELLOW_BAND,
    DIRECTIONS,
    GRAINS,
    RULE_PROFILES,
    Registry,
)

REQUIRED = ("kpi_id", "value")  # plus period or fiscal_year
OPTIONAL = ("target", "desired_direction", "yellow_band", "red_band", "flag_threshold",
            "min_periods_for_status", "critical", "department_code", "grain", "rules_profile")
PREPARED_COLUMNS = ["kpi_id", "period", "fiscal_year", "value", "target", "target_basis", "desired_direction",
                    "yellow_band", "red_band", "flag_threshold", "min_periods_for_status", "critical",
                    "department_code", "name", "unit", "grain", "rules_profile"]


def _missing(value) -> bool:
    if value is None:
        return True
    if isinstance(value, float) and math.isnan(value):
        return True
    return isinstance(value, str) and not value.strip()


def _number(value, field: str, at: str, problems: list[Problem], minimum: float | None = None,
            positive: bool = False) -> float | None:
    if _missing(value):
        return None
    try:
        number = float(value.strip() if isinstance(value, str) else value)
    except (TypeError, ValueError):
        problems.append(Problem(at, field, f"{value!r} is not a number"))
        return None
    if not math.isfinite(number):
        problems.append(Problem(at, field, f"{value!r} is not a finite number"))
        return None
    if positive and number <= 0:
        problems.append(Problem(at, field, f"{number:g} must be > 0"))
        return None
    if minimum is not None and number < minimum:
        problems.append(Problem(at, field, f"{number:g} must be >= {minimum:g}"))
        return None
    return number


def _parse_record(raw: dict, at: str, problems: list[Problem]) -> dict | None:
    before = len(problems)
    kpi_id = None if _missing(raw.get("kpi_id")) else str(raw["kpi_id"]).strip()
    if kpi_id is None:
        problems.append(Problem(at, "kpi_id", "is required"))
    period: Period | None = None
    period_text = raw.get("period")
    fiscal_year_text = raw.get("fiscal_year")
    if _missing(period_text) and not _missing(fiscal_year_text):
        text = str(fiscal_year_text).strip()
        if text.endswith(".0"):  # a fiscal year read as a float by pandas
            text = text[:-2]
        period_text = text if text.upper().startswith("FY") else f"FY{text}"
    if _missing(period_text):
        problems.append(Problem(at, "period", "is required (YYYY-MM, FYyyyy or YYYY-MM-DD)"))
    else:
        try:
            period = parse_period(period_text)
        except ValueError as error:
            problems.append(Problem(at, "period", str(error)))
    direction = None
    if not _missing(raw.get("desired_direction")):
        direction = str(raw["desired_direction"]).strip().lower()
        if direction not in DIRECTIONS:
            problems.append(Problem(at, "desired_direction", f"{raw['desired_direction']!r} is not one of {', '.join(DIRECTIONS)}"))
    yellow = _number(raw.get("yellow_band"), "yellow_band", at, problems, minimum=0)
    red = _number(raw.get("red_band"), "red_band", at, problems, minimum=0)
    if yellow is not None and red is not None and red < yellow:
        problems.append(Problem(at, "red_band", f"{red:g} is narrower than yellow_band {yellow:g}"))
    min_periods = _number(raw.get("min_periods_for_status"), "min_periods_for_status", at, problems, minimum=1)
    if min_periods is not None and min_periods != int(min_periods):
        problems.append(Problem(at, "min_periods_for_status", f"{min_periods:g} is not a whole number"))
    choices = {}
    for field, allowed in (("grain", GRAINS), ("rules_profile", RULE_PROFILES)):
        choices[field] = None
        if not _missing(raw.get(field)):
            text = str(raw[field]).strip().lower()
            if text not in allowed:
                problems.append(Problem(at, field, f"{raw[field]!r} is not one of {', '.join(allowed)}"))
            choices[field] = text
    critical = None
    if not _missing(raw.get("critical")):
        text = str(raw["critical"]).strip().lower()
        if text not in ("true", "false", "1", "0"):
            problems.append(Problem(at, "critical", f"{raw['critical']!r} is not true or false"))
        critical = text in ("true", "1")
    record = {
        "kpi_id": kpi_id,
        "period": period,
        "value": _number(raw.get("value"), "value", at, problems),
        "target": _number(raw.get("target"), "target", at, problems),
        "desired_direction": direction,
        "yellow_band": yellow,
        "red_band": red,
        "flag_threshold": _number(raw.get("flag_threshold"), "flag_threshold", at, problems, positive=True),
        "min_periods_for_status": int(min_periods) if min_periods is not None else None,
        "critical": critical,
        "department_code": None if _missing(raw.get("department_code")) else str(raw["department_code"]).strip(),
        **choices,
    }
    return None if len(problems) > before else record


def _validate(raws: list[tuple[str, dict]], source: str) -> list[dict]:
    problems: list[Problem] = []
    records: list[dict] = []
    seen: dict[tuple[str, str], str] = {}
    grains: dict[str, tuple[str, str]] = {}
    for at, raw in raws:
        record = _parse_record(raw, at, problems)
        if record is None:
            continue
        key = (record["kpi_id"], record["period"].label)
        if key in seen:
            problems.append(Problem(at, "period", f"{key[0]} {key[1]} appears twice (first at {seen[key]})"))
            continue
        seen[key] = at
        grain = record["period"].grain
        first = grains.setdefault(record["kpi_id"], (grain, at))
        if first[0] != grain:
            problems.append(Problem(at, "period", f"{record['kpi_id']} mixes {first[0]} periods ({first[1]}) with {grain} periods"))
            continue
        records.append(record)
    if problems:
        raise ValidationError(f"KPI series {source}", problems)
    return records


def read_series_csv(path: Path) -> tuple[list[dict], list[str]]:
    """Validated records from a series CSV, and the names of the columns it ignored."""
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"{path}: file not found")
    with path.open(newline="", encoding="utf-8-sig") as handle:
        reader = csv.DictReader(handle)
        header = [(name or "").strip().lower() for name in (reader.fieldnames or [])]
        reader.fieldnames = header
        missing = [c for c in REQUIRED if c not in header]
        if "period" not in header and "fiscal_year" not in header:
            missing.append("period (or fiscal_year)")
        if missing:
            raise ValidationError(f"KPI series {path}", [Problem(where(str(path), 1), "header", f"missing column(s) {', '.join(missing)}")])
        ignored = [c for c in header if c not in (*REQUIRED, *OPTIONAL, "period", "fiscal_year")]
        raws = []
        for row in reader:
            if None in row:
                raws.append((where(str(path), reader.line_num), {"__extra__": row.pop(None)}))
                continue
            if all(_missing(v) for v in row.values()):
                continue
            raws.append((where(str(path), reader.line_num), row))
    bad_width = [Problem(at, None, "more cells than header columns") for at, raw in raws if "__extra__" in raw]
    if bad_width:
        raise ValidationError(f"KPI series {path}", bad_width)
    return _validate(raws, str(path)), ignored


def records_from_frame(frame: pd.DataFrame, source: str = "frame") -> list[dict]:
    """Validated records from a DataFrame (e.g. the kpi_values mart); problems name the row (1-based)."""
    missing = [c for c in REQUIRED if c not in frame.columns]
    if "period" not in frame.columns and "fiscal_year" not in frame.columns:
        missing.append("period (or fiscal_year)")
    if missing:
        raise ValidationError(f"KPI series {source}", [Problem(source, "columns", f"missing column(s) {', '.join(missing)}")])
    columns = [c for c in (*REQUIRED, *OPTIONAL, "period", "fiscal_year") if c in frame.columns]
    raws = [(f"{source} row {i}", row) for i, row in enumerate(frame[columns].to_dict("records"), start=1)]
    return _validate(raws, source)


def prepare(records: list[dict], registry: Registry | None = None,
            targets: dict[tuple[str, int], float] | None = None) -> pd.DataFrame:
    """Fill every rule input: row value, else ``targets`` (a --targets file), else the registry, else the default.

    A registry target for an additive KPI of grain fytd is an annual figure; for a monthly period it is prorated
    by fiscal month (target x month/12) so October's year-to-date is compared with four twelfths of it.
    """
    rows = []
    for record in records:
        kpi_id, period = record["kpi_id"], record["period"]
        kpi = registry.kpis.get(kpi_id) if registry is not None else None
        fiscal_year = period.fiscal_year
        target, basis = record["target"], "series"
        if target is None and targets is not None and (kpi_id, fiscal_year) in targets:
            target, basis = targets[(kpi_id, fiscal_year)], "targets file"
        if target is None and registry is not None and registry.target_for(kpi_id, fiscal_year) is not None:
            target, basis = registry.target_for(kpi_id, fiscal_year), "registry"
        if basis != "series" and target is not None and kpi is not None and kpi.grain == "fytd" and kpi.additive \
                and period.grain != "fiscal_year":
            target, basis = target * period.fiscal_month / 12, f"{basis}, prorated {period.fiscal_month}/12"
        if target is None:
            basis = None

        def pick(field: str, default):
            if record[field] is not None:
                return record[field]
            return getattr(kpi, field) if kpi is not None else default

        rows.append({
            "kpi_id": kpi_id,
            "period": period.label,
            "fiscal_year": fiscal_year,
            "value": record["value"],
            "target": target,
            "target_basis": basis,
            "desired_direction": pick("desired_direction", "none"),
            "yellow_band": pick("yellow_band", DEFAULT_YELLOW_BAND),
            "red_band": pick("red_band", None),
            "flag_threshold": pick("flag_threshold", DEFAULT_FLAG_THRESHOLD),
            "min_periods_for_status": pick("min_periods_for_status", 1),
            "critical": pick("critical", False),
            "department_code": pick("department_code", None),
            "name": kpi.name if kpi is not None else kpi_id,
            "unit": kpi.unit if kpi is not None else None,
            "grain": pick("grain", "month"),
            "rules_profile": pick("rules_profile", "default"),
        })
    return pd.DataFrame(rows, columns=PREPARED_COLUMNS).astype({"value": "float64", "target": "float64"})
