"""The KPI registry: one definition per KPI and its targets per fiscal year, read from the dbt seeds.

The performance office edits ``dbt_project/seeds/kpi_registry.csv`` and ``kpi_targets.csv``; dbt loads the same
files as seeds so marts can join them. Loading validates every row and reports every problem with file, line
and field, so a bad edit is caught before any status is computed.
"""
from __future__ import annotations

import csv
import math
import re
from dataclasses import asdict, dataclass
from pathlib import Path

import pandas as pd

from citystat.kpi.problems import Problem, ValidationError, where

SEEDS_DIR = Path(__file__).resolve().parents[2] / "dbt_project" / "seeds"
REGISTRY_PATH = SEEDS_DIR / "kpi_registry.csv"
TARGETS_PATH = SEEDS_DIR / "kpi_targets.csv"


def active_seeds_dir() -> Path:
    """The seeds dbt loads: the shipped ones, or a city's own (citystat.city_project) under $CITYSTAT_INVENTORY."""
    from citystat.settings import dbt_project_dir

    return dbt_project_dir() / "seeds"

REGISTRY_COLUMNS = [
    "id", "name", "department_code", "strategic_priority", "kind", "paired_kpi_id", "unit",
    "desired_direction", "grain", "yellow_band", "red_band", "critical", "flag_threshold",
    "min_periods_for_status", "lineage", "source", "description", "rules_profile",
]
# columns a registry file may leave out (older files): their default applies to every row
OPTIONAL_REGISTRY_COLUMNS = {"rules_profile": "default"}
TARGET_COLUMNS = ["kpi_id", "fiscal_year", "target"]

KINDS = ("output", "outcome", "efficiency")
DIRECTIONS = ("up", "down", "none")
GRAINS = ("month", "fytd")
SOURCES = ("computed", "submitted")
# status and trend rule profiles (docs/kpi_rules.md, section 3): the documented default, or the NYC Comptroller's
# evaluation of the Mayor's Management Report
RULE_PROFILES = ("default", "mmr")
# pct values are percentages 0-100 (not 0-1), as the MMR prints them
UNITS = ("pct", "count", "ratio", "days", "hours", "seconds", "usd", "miles", "acres", "points")
ADDITIVE_UNITS = frozenset({"count", "miles", "usd"})  # values that add up over periods (a goal sums them)
SUBMISSIONS_DATASET = "perf_office.kpi_submissions"
DEFAULT_YELLOW_BAND = 0.10
DEFAULT_FLAG_THRESHOLD = 0.10

_SAFE_ID = re.compile(r"^[a-z][a-z0-9_]*$")
_DATASET_ID = re.compile(r"^[a-z][a-z0-9_]*\.[a-z][a-z0-9_]*$")


def shipped_kpis_the_city_lacks() -> frozenset[str]:
    """Under another city's inventory, the shipped registry's KPIs its own registry left out (they belong to
    departments the city does not have, citystat.city_project); empty for the shipped inventory. Demo-city files
    that name KPIs (programme measures) skip these instead of failing on them."""
    seeds = active_seeds_dir()
    if seeds.resolve() == SEEDS_DIR.resolve():
        return frozenset()

    def ids(path: Path) -> set[str]:
        with path.open(newline="", encoding="utf-8") as handle:
            return {row["id"] for row in csv.DictReader(handle)}

    return frozenset(ids(REGISTRY_PATH) - ids(seeds / REGISTRY_PATH.name))


def inventory_departments() -> frozenset[str]:
    """The department codes of the city's data inventory: a KPI belongs to one of them."""
    from data_inventory import load_inventory  # lazy: reading the registry with explicit departments needs no inventory

    return frozenset(department.id for department in load_inventory().departments)


@dataclass(frozen=True)
class KpiDefinition:
    id: str
    name: str
    department_code: str
    strategic_priority: str
    kind: str
    paired_kpi_id: str | None
    unit: str
    desired_direction: str
    grain: str
    yellow_band: float
    red_band: float | None
    critical: bool
    flag_threshold: float
    min_periods_for_status: int
    lineage: tuple[str, ...]
    source: str
    description: str
    rules_profile: str = "default"

    @property
    def additive(self) -> bool:
        return self.unit in ADDITIVE_UNITS


@dataclass(frozen=True)
class Registry:
    kpis: dict[str, KpiDefinition]
    targets: dict[tuple[str, int], float]

    def __getitem__(self, kpi_id: str) -> KpiDefinition:
        return self.kpis[kpi_id]

    def __contains__(self, kpi_id: object) -> bool:
        return kpi_id in self.kpis

    def __len__(self) -> int:
        return len(self.kpis)

    def target_for(self, kpi_id: str, fiscal_year: int) -> float | None:
        return self.targets.get((kpi_id, fiscal_year))

    def frame(self) -> pd.DataFrame:
        rows = [{**asdict(k), "lineage": ";".join(k.lineage)} for k in self.kpis.values()]
        return pd.DataFrame(rows, columns=REGISTRY_COLUMNS)

    def targets_frame(self) -> pd.DataFrame:
        rows = [{"kpi_id": k, "fiscal_year": fy, "target": t} for (k, fy), t in sorted(self.targets.items())]
        return pd.DataFrame(rows, columns=TARGET_COLUMNS)


def _read_rows(path: Path, expected: list[str], problems: list[Problem],
               optional: dict[str, str] | None = None) -> list[tuple[int, dict[str, str]]]:
    """Rows with their line numbers; a missing or misnamed column is one problem, reported before any row.

    ``optional`` columns ({name: default}) may be left out of the file; rows then get the default."""
    optional = optional or {}
    if not path.exists():
        raise FileNotFoundError(f"{path}: file not found")
    with path.open(newline="", encoding="utf-8-sig") as handle:
        reader = csv.DictReader(handle)
        header = reader.fieldnames or []
        missing = [c for c in expected if c not in header and c not in optional]
        unknown = [c for c in header if c not in expected]
        if missing or unknown:
            parts = []
            if missing:
                parts.append(f"missing column(s) {', '.join(missing)}")
            if unknown:
                parts.append(f"unknown column(s) {', '.join(unknown)}")
            problems.append(Problem(where(str(path), 1), "header", "; ".join(parts)))
            return []
        rows = []
        for row in reader:
            if None in row:  # more cells than header columns
                problems.append(Problem(where(str(path), reader.line_num), None, f"{len(header) + len(row[None])} cells for {len(header)} columns"))
                continue
            if all(not (v or "").strip() for v in row.values()):
                continue  # blank line
            cells = {k: (v or "").strip() for k, v in row.items()}
            for column, default in optional.items():
                if not cells.get(column):
                    cells[column] = default
            rows.append((reader.line_num, cells))
        return rows


class _RowChecker:
    """Field parsers that record a problem (file, line, field) and return None instead of raising."""

    def __init__(self, source: str, line: int, problems: list[Problem]):
        self.at = where(source, line)
        self.problems = problems

    def fail(self, field: str, message: str) -> None:
        self.problems.append(Problem(self.at, field, message))

    def text(self, row: dict, field: str, required: bool = True) -> str | None:
        value = row[field]
        if not value:
            if required:
                self.fail(field, "is required")
            return None
        return value

    def choice(self, row: dict, field: str, allowed: tuple[str, ...]) -> str | None:
        value = self.text(row, field)
        if value is not None and value not in allowed:
            self.fail(field, f"{value!r} is not one of {', '.join(allowed)}")
            return None
        return value

    def number(self, row: dict, field: str, default: float | None = None, minimum: float | None = None,
               exclusive_minimum: bool = False) -> float | None:
        value = row[field]
        if not value:
            return default
        try:
            number = float(value)
        except ValueError:
            self.fail(field, f"{value!r} is not a number")
            return None
        if not math.isfinite(number):
            self.fail(field, f"{value!r} is not a finite number")
            return None
        if minimum is not None and (number < minimum or (exclusive_minimum and number == minimum)):
            self.fail(field, f"{value} must be {'>' if exclusive_minimum else '>='} {minimum:g}")
            return None
        return number

    def integer(self, row: dict, field: str, default: int | None = None, minimum: int | None = None) -> int | None:
        value = row[field]
        if not value:
            return default
        if not re.fullmatch(r"-?\d+", value):
            self.fail(field, f"{value!r} is not a whole number")
            return None
        number = int(value)
        if minimum is not None and number < minimum:
            self.fail(field, f"{number} must be >= {minimum}")
            return None
        return number

    def boolean(self, row: dict, field: str) -> bool | None:
        value = row[field].lower()
        if value in ("true", "false"):
            return value == "true"
        self.fail(field, f"{row[field]!r} is not true or false")
        return None


def _parse_kpi(row: dict, check: _RowChecker, departments: frozenset[str]) -> KpiDefinition | None:
    before = len(check.problems)
    kpi_id = check.text(row, "id")
    if kpi_id is not None and not _SAFE_ID.match(kpi_id):
        check.fail("id", f"{kpi_id!r} is not a lower-case identifier (letters, digits, _)")
    department = check.text(row, "department_code")
    if department is not None and department not in departments:
        check.fail("department_code", f"{department!r} is not a department of the data inventory "
                                      f"(one of {', '.join(sorted(departments))})")
    elif department and kpi_id and not kpi_id.startswith(f"{department}_"):
        check.fail("id", f"{kpi_id!r} must start with its department code '{department}_'")
    lineage_text = check.text(row, "lineage")
    lineage = tuple(part.strip() for part in (lineage_text or "").split(";") if part.strip())
    for dataset in lineage:
        if not _DATASET_ID.match(dataset):
            check.fail("lineage", f"{dataset!r} is not an inventory dataset id 'system.dataset'")
    source = check.choice(row, "source", SOURCES)
    if source == "submitted" and lineage_text and SUBMISSIONS_DATASET not in lineage:
        check.fail("lineage", f"a submitted KPI must list {SUBMISSIONS_DATASET}")
    yellow = check.number(row, "yellow_band", DEFAULT_YELLOW_BAND, minimum=0)
    red = check.number(row, "red_band", None, minimum=0)
    if yellow is not None and red is not None and red < yellow:
        check.fail("red_band", f"{red:g} is narrower than yellow_band {yellow:g}")
    fields = dict(
        id=kpi_id,
        name=check.text(row, "name"),
        department_code=department,
        strategic_priority=check.text(row, "strategic_priority"),
        kind=check.choice(row, "kind", KINDS),
        paired_kpi_id=row["paired_kpi_id"] or None,
        unit=check.choice(row, "unit", UNITS),
        desired_direction=check.choice(row, "desired_direction", DIRECTIONS),
        grain=check.choice(row, "grain", GRAINS),
        yellow_band=yellow,
        red_band=red,
        critical=check.boolean(row, "critical"),
        flag_threshold=check.number(row, "flag_threshold", DEFAULT_FLAG_THRESHOLD, minimum=0, exclusive_minimum=True),
        min_periods_for_status=check.integer(row, "min_periods_for_status", 1, minimum=1),
        lineage=lineage,
        source=source,
        description=check.text(row, "description"),
        rules_profile=check.choice(row, "rules_profile", RULE_PROFILES),
    )
    if len(check.problems) > before:
        return None
    return KpiDefinition(**fields)


def _check_pairs(kpis: dict[str, tuple[int, KpiDefinition]], source: str, problems: list[Problem]) -> None:
    """Outputs sit beside outcomes (Flowers): every output names an outcome KPI that exists."""
    for kpi_id, (line, kpi) in kpis.items():
        at = where(source, line)
        pair = kpi.paired_kpi_id
        if pair is None:
            if kpi.kind == "output":
                problems.append(Problem(at, "paired_kpi_id", f"output KPI {kpi_id} needs the outcome KPI it is read beside"))
            continue
        if pair == kpi_id:
            problems.append(Problem(at, "paired_kpi_id", "a KPI cannot be paired with itself"))
        elif pair not in kpis:
            problems.append(Problem(at, "paired_kpi_id", f"{pair!r} is not a KPI id in this registry"))
        elif kpi.kind == "output" and kpis[pair][1].kind != "outcome":
            problems.append(Problem(at, "paired_kpi_id", f"output KPI {kpi_id} must pair with an outcome, {pair} is {kpis[pair][1].kind}"))


def load_targets(path: Path, kpis: dict[str, KpiDefinition] | None = None) -> dict[tuple[str, int], float]:
    """Targets per (kpi_id, fiscal_year); with ``kpis`` given, every kpi_id must be a known KPI with a direction."""
    path = Path(path)
    problems: list[Problem] = []
    targets: dict[tuple[str, int], float] = {}
    first_line: dict[tuple[str, int], int] = {}
    for line, row in _read_rows(path, TARGET_COLUMNS, problems):
        check = _RowChecker(str(path), line, problems)
        before = len(problems)
        kpi_id = check.text(row, "kpi_id")
        fiscal_year = check.integer(row, "fiscal_year")
        if fiscal_year is not None and not 1990 <= fiscal_year <= 2100:
            check.fail("fiscal_year", f"{fiscal_year} is not a plausible fiscal year")
        if not row["target"]:
            check.fail("target", "is required (delete the row for 'no target')")
        target = check.number(row, "target")
        if kpis is not None and kpi_id is not None:
            if kpi_id not in kpis:
                check.fail("kpi_id", f"{kpi_id!r} is not in the KPI registry")
            elif kpis[kpi_id].desired_direction == "none":
                check.fail("kpi_id", f"{kpi_id} has desired_direction none, so a target would never be used")
        if len(problems) > before:
            continue
        key = (kpi_id, fiscal_year)
        if key in targets:
            check.fail("fiscal_year", f"second target for {kpi_id} FY{fiscal_year} (first on line {first_line[key]})")
            continue
        targets[key] = target
        first_line[key] = line
    if problems:
        raise ValidationError(f"KPI targets {path}", problems)
    return targets


def load_registry(registry_path: Path | None = None, targets_path: Path | None = None,
                  departments: frozenset[str] | None = None) -> Registry:
    """Load and validate the registry and its targets; raises ValidationError listing every problem."""
    registry_path = Path(registry_path or active_seeds_dir() / REGISTRY_PATH.name)
    targets_path = Path(targets_path or active_seeds_dir() / TARGETS_PATH.name)
    departments = departments if departments is not None else inventory_departments()
    problems: list[Problem] = []
    parsed: dict[str, tuple[int, KpiDefinition]] = {}
    for line, row in _read_rows(registry_path, REGISTRY_COLUMNS, problems, OPTIONAL_REGISTRY_COLUMNS):
        kpi = _parse_kpi(row, _RowChecker(str(registry_path), line, problems), departments)
        if kpi is None:
            continue
        if kpi.id in parsed:
            problems.append(Problem(where(str(registry_path), line), "id", f"{kpi.id} is defined twice (first on line {parsed[kpi.id][0]})"))
            continue
        parsed[kpi.id] = (line, kpi)
    _check_pairs(parsed, str(registry_path), problems)
    if problems:
        raise ValidationError(f"KPI registry {registry_path}", problems)
    kpis = {kpi_id: kpi for kpi_id, (_, kpi) in parsed.items()}
    return Registry(kpis=kpis, targets=load_targets(targets_path, kpis))
