"""The evaluations registry (``data_inventory/evaluations.yaml``): what each low-cost evaluation tests, its unit of
assignment, the assignment (randomized with a seed, or phased by date), the window and the outcomes, with the
pre-registered primary outcome.

``load_registry()`` validates the file against ``SCHEMA`` (JSON Schema, draft 2020-12) and the rules JSON Schema
cannot say (unique ids, dates in order, one primary outcome that was pre-registered before the start); every
problem is collected and named by the evaluation and the field (``pothole_triage: outcomes[0].column: ...``).
"""
from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from citystat.settings import resolve_path

REGISTRY_ENV = "CITYSTAT_EVALUATIONS"
DEFAULT_PATH = "data_inventory/evaluations.yaml"

_IDENT = {"type": "string", "pattern": "^[A-Za-z_][A-Za-z0-9_]*$"}
_DATE = {"type": "string", "format": "date", "pattern": r"^\d{4}-\d{2}-\d{2}$"}
_TEXT = {"type": "string", "minLength": 1}

SCHEMA: dict = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object",
    "required": ["evaluations"],
    "additionalProperties": False,
    "properties": {"evaluations": {"type": "array", "items": {"$ref": "#/$defs/evaluation"}}},
    "$defs": {
        "evaluation": {
            "type": "object",
            "additionalProperties": False,
            "required": ["evaluation_id", "title", "question", "owner", "registered_on", "start", "end",
                         "assignment", "outcomes"],
            "properties": {
                "evaluation_id": {"type": "string", "pattern": "^[a-z][a-z0-9_]*$"},
                "title": _TEXT, "question": _TEXT, "intervention": _TEXT, "owner": _TEXT,
                "department_code": _IDENT,
                "registered_on": _DATE, "start": _DATE, "end": _DATE,
                "follow_up_days": {"type": "integer", "minimum": 0},
                "assignment": {"$ref": "#/$defs/assignment"},
                "outcomes": {"type": "array", "minItems": 1, "items": {"$ref": "#/$defs/outcome"}},
            },
        },
        "assignment": {
            "type": "object",
            "additionalProperties": False,
            "required": ["method", "unit", "unit_column", "units"],
            "properties": {
                "method": {"enum": ["randomized", "phased"]},
                "unit": _TEXT,
                "unit_column": _IDENT,
                "units": {"type": "array", "minItems": 2, "uniqueItems": True, "items": {"type": "string"}},
                "period": {"enum": ["day", "week", "none"]},
                "seed": {"type": "integer", "minimum": 0},
                "share": {"type": "number", "exclusiveMinimum": 0, "exclusiveMaximum": 1},
                "treated": {"type": "array", "minItems": 1, "uniqueItems": True, "items": {"type": "string"}},
                "phases": {"type": "object", "additionalProperties": _DATE},
            },
            "allOf": [
                {"if": {"properties": {"method": {"const": "randomized"}}},
                 "then": {"anyOf": [{"required": ["seed"]}, {"required": ["treated"]}]}},
                {"if": {"properties": {"method": {"const": "phased"}}}, "then": {"required": ["phases"]}},
            ],
        },
        "outcome": {
            "type": "object",
            "additionalProperties": False,
            "required": ["name", "dataset", "column", "date_column", "desired_direction", "pre_registered"],
            "properties": {
                "name": _IDENT, "label": _TEXT,
                "dataset": {"type": "string", "pattern": "^[A-Za-z_][A-Za-z0-9_]*\\.[A-Za-z_][A-Za-z0-9_]*$"},
                "column": _IDENT, "date_column": _IDENT,
                "where": {"type": "object", "propertyNames": _IDENT,
                          "additionalProperties": {"type": ["string", "number", "boolean"]}},
                "unit": _TEXT,
                "cap": {"type": "number"},
                "desired_direction": {"enum": ["up", "down"]},
                "primary": {"type": "boolean"},
                "pre_registered": {"type": "boolean"},
            },
        },
    },
}


class RegistryError(ValueError):
    """The registry is invalid; ``problems`` lists every problem as "<evaluation>: <field>: <message>"."""

    def __init__(self, problems: list[str], path: Path | None = None):
        self.problems = problems
        where = f"{path}: " if path else ""
        super().__init__(f"{where}{len(problems)} problem(s) in the evaluations registry:\n" + "\n".join(f"  - {p}" for p in problems))


@dataclass(frozen=True)
class Outcome:
    name: str
    dataset: str
    column: str
    date_column: str
    desired_direction: str
    pre_registered: bool
    primary: bool = False
    label: str = ""
    unit: str = ""
    where: dict = field(default_factory=dict)
    cap: float | None = None  # pre-registered: values above it count as the cap (a long tail of stuck records)

    @property
    def label_text(self) -> str:
        return self.label or self.name.replace("_", " ")


@dataclass(frozen=True)
class Assignment:
    method: str
    unit: str
    unit_column: str
    units: tuple[str, ...]
    period: str = "none"
    seed: int | None = None
    share: float = 0.5
    treated: tuple[str, ...] | None = None
    phases: dict = field(default_factory=dict)


@dataclass(frozen=True)
class Evaluation:
    evaluation_id: str
    title: str
    question: str
    owner: str
    registered_on: dt.date
    start: dt.date
    end: dt.date
    assignment: Assignment
    outcomes: tuple[Outcome, ...]
    intervention: str = ""
    department_code: str | None = None
    follow_up_days: int = 0

    @property
    def report_date(self) -> dt.date:
        """The first day results may be reported: the end plus the follow-up (no peeking before)."""
        return self.end + dt.timedelta(days=self.follow_up_days)

    @property
    def primary(self) -> Outcome:
        return next(o for o in self.outcomes if o.primary)


def registry_path(path: str | os.PathLike | None = None) -> Path:
    return resolve_path(path or os.environ.get(REGISTRY_ENV) or DEFAULT_PATH)


def _plain(value):
    """YAML dates as ISO text, so the JSON Schema sees what the file says."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    return value


def _field(path) -> str:
    text = ""
    for step in path:
        text += f"[{step}]" if isinstance(step, int) else (f".{step}" if text else str(step))
    return text or "(top level)"


def _schema_problems(data) -> list[str]:
    import jsonschema

    validator = jsonschema.Draft202012Validator(SCHEMA, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER)
    problems = []
    for error in sorted(validator.iter_errors(data), key=lambda e: [str(p) for p in e.absolute_path]):
        path = list(error.absolute_path)
        if len(path) >= 2 and path[0] == "evaluations" and isinstance(path[1], int):
            entry = data["evaluations"][path[1]]
            name = entry.get("evaluation_id") if isinstance(entry, dict) else None
            who, rest = (name or f"evaluations[{path[1]}]"), path[2:]
        else:
            who, rest = "registry", path
        where = _field(rest) if rest or who == "registry" else "(entry)"
        message = error.message
        if error.validator == "anyOf" and "seed" in str(error.schema):
            message = "a randomized assignment needs its seed (or the treated list)"
        elif error.validator == "additionalProperties":
            message = message.replace("Additional properties are not allowed", "unknown field(s)")
        problems.append(f"{who}: {where}: {message}")
    return problems


def _rule_problems(data) -> list[str]:
    problems: list[str] = []
    seen: set[str] = set()
    for i, entry in enumerate(data.get("evaluations") or []):
        who = entry.get("evaluation_id") or f"evaluations[{i}]"
        if who in seen:
            problems.append(f"{who}: evaluation_id: duplicate id (each evaluation is registered once)")
        seen.add(who)
        start, end, registered = (dt.date.fromisoformat(entry[k]) for k in ("start", "end", "registered_on"))
        if end < start:
            problems.append(f"{who}: end: {end} is before the start {start}")
        outcomes = entry["outcomes"]
        primaries = [j for j, o in enumerate(outcomes) if o.get("primary")]
        if len(primaries) != 1:
            problems.append(f"{who}: outcomes: exactly one outcome must be `primary: true` (found {len(primaries)})")
        for j in primaries:
            if not outcomes[j]["pre_registered"]:
                problems.append(f"{who}: outcomes[{j}].pre_registered: the primary outcome must be pre-registered")
        if registered > start:
            for j, o in enumerate(outcomes):
                if o["pre_registered"]:
                    problems.append(f"{who}: outcomes[{j}].pre_registered: registered_on {registered} is after the start "
                                    f"{start}, so no outcome can be pre-registered (mark it exploratory)")
        names = [o["name"] for o in outcomes]
        for name in sorted({n for n in names if names.count(n) > 1}):
            problems.append(f"{who}: outcomes: duplicate outcome name {name!r}")
        a = entry["assignment"]
        units = set(a["units"])
        if a["method"] == "randomized":
            if a.get("period", "none") == "none" and not a.get("treated") and len(units) < 4:
                problems.append(f"{who}: assignment.units: {len(units)} units cannot be randomized into two arms "
                                f"with any power (use a period, or more units)")
            for unit in a.get("treated") or []:
                value, _, period = unit.rpartition(":")
                value = value if period.isdigit() else unit
                if value not in units:
                    problems.append(f"{who}: assignment.treated: {unit!r} is not one of the units")
        else:
            for value, when in (a.get("phases") or {}).items():
                if value not in units:
                    problems.append(f"{who}: assignment.phases: {value!r} is not one of the units")
                elif not (start <= dt.date.fromisoformat(when) <= end):
                    problems.append(f"{who}: assignment.phases.{value}: {when} is outside the window {start}..{end}")
    return problems


def validate(data) -> list[str]:
    """Every problem in registry ``data`` (parsed YAML); empty when valid."""
    data = _plain(data)
    problems = _schema_problems(data)
    return problems or _rule_problems(data)


def parse(data, path: Path | None = None) -> list[Evaluation]:
    """Validated registry ``data`` as Evaluations; raises RegistryError listing every problem."""
    problems = validate(data)
    if problems:
        raise RegistryError(problems, path)
    data = _plain(data)
    out = []
    for entry in data["evaluations"]:
        a = entry["assignment"]
        assignment = Assignment(
            method=a["method"], unit=a["unit"], unit_column=a["unit_column"], units=tuple(a["units"]),
            period=a.get("period", "none"), seed=a.get("seed"), share=float(a.get("share", 0.5)),
            treated=tuple(a["treated"]) if a.get("treated") else None, phases=dict(a.get("phases") or {}))
        outcomes = tuple(Outcome(
            name=o["name"], dataset=o["dataset"], column=o["column"], date_column=o["date_column"],
            desired_direction=o["desired_direction"], pre_registered=bool(o["pre_registered"]),
            primary=bool(o.get("primary", False)), label=o.get("label", ""), unit=o.get("unit", ""),
            where=dict(o.get("where") or {}), cap=o.get("cap")) for o in entry["outcomes"])
        out.append(Evaluation(
            evaluation_id=entry["evaluation_id"], title=entry["title"], question=entry["question"], owner=entry["owner"],
            registered_on=dt.date.fromisoformat(entry["registered_on"]), start=dt.date.fromisoformat(entry["start"]),
            end=dt.date.fromisoformat(entry["end"]), assignment=assignment, outcomes=outcomes,
            intervention=entry.get("intervention", ""), department_code=entry.get("department_code"),
            follow_up_days=int(entry.get("follow_up_days", 0))))
    return out


def load_registry(path: str | os.PathLike | None = None) -> list[Evaluation]:
    """The validated registry at ``path`` (default: $CITYSTAT_EVALUATIONS, else data_inventory/evaluations.yaml)."""
    path = registry_path(path)
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise RegistryError([f"registry: (YAML): {exc}"], path) from None
    if not isinstance(data, dict):
        raise RegistryError(["registry: (top level): expected a mapping with an `evaluations` list"], path)
    return parse(data, path)
