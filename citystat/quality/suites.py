"""The Great Expectations suites of ``expectations/suites/`` as plain data: what they check, on which columns,
with which severity, and which run-time parameters they need.

Reading a suite imports nothing from GX (``gx_runner`` does that, lazily): building the Dagster definitions
must stay fast.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

from citystat.settings import project_root

ERROR, WARNING = "error", "warning"
LANDED_SUFFIX = "__landed"  # the text of a typed field exactly as landed (see citystat/quality/suite_generation.py)
PARAMETER = "$PARAMETER"
_COLUMN_KWARGS = ("column", "column_A", "column_B")


class SuiteError(ValueError):
    """A suite file that cannot be used: names the file and the problem."""


def suites_dir() -> Path:
    """The GX suites: the shipped ``expectations/suites``, or, under another city's inventory, the city's own, which
    ``citystat generate`` writes to ``<warehouse>/expectations/suites`` (so the shipped suites stay the demo's)."""
    from citystat.settings import another_city, warehouse_dir

    return (warehouse_dir() if another_city() else project_root()) / "expectations" / "suites"


@dataclass(frozen=True)
class Suite:
    name: str
    path: Path
    expectations: tuple[dict, ...]
    meta: dict = field(default_factory=dict)

    @property
    def target(self) -> dict:
        return self.meta.get("target", {})

    @property
    def has_errors(self) -> bool:
        """A suite with an error-severity rule blocks downstream assets when it fails."""
        return any(e["meta"]["severity"] == ERROR for e in self.expectations)

    @property
    def record_id(self) -> list[str]:
        return list(self.meta.get("record_id", []))

    @property
    def derived_columns(self) -> dict[str, str]:
        """Hand-written SQL expressions over the landed columns (raw suites) that rules refer to."""
        return dict(self.meta.get("derived_columns", {}))

    @property
    def query(self) -> str | None:
        """Mart suites: the SELECT over the working warehouse whose rows are validated."""
        return self.meta.get("query")

    def columns(self) -> set[str]:
        """Every column an expectation reads (row conditions included)."""
        names: set[str] = set()
        for e in self.expectations:
            kwargs = e["kwargs"]
            names.update(kwargs[k] for k in _COLUMN_KWARGS if isinstance(kwargs.get(k), str))
            names.update(kwargs.get("column_list") or ())
            if kwargs.get("row_condition"):
                names.update(re.findall(r"[A-Za-z_][A-Za-z0-9_]*", kwargs["row_condition"]))
        return names

    def parameters(self) -> set[str]:
        """Names of the ``{"$PARAMETER": name}`` values the suite needs at run time."""
        found: set[str] = set()

        def walk(value):
            if isinstance(value, dict):
                if PARAMETER in value:
                    found.add(value[PARAMETER])
                for v in value.values():
                    walk(v)
            elif isinstance(value, list):
                for v in value:
                    walk(v)

        for e in self.expectations:
            walk(e["kwargs"])
        return found

    def without_parameters(self, names: set[str]) -> "Suite":
        """The suite minus the expectations that need one of ``names`` (e.g. a parent dataset not landed yet)."""
        kept = tuple(e for e in self.expectations if not any(f'"{n}"' in json.dumps(e["kwargs"]) for n in names))
        return Suite(self.name, self.path, kept, self.meta)


def load_suite(path: Path) -> Suite:
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise SuiteError(f"{path}: cannot read suite ({exc})") from exc
    expectations = data.get("expectations") or []
    for i, e in enumerate(expectations):
        severity = (e.get("meta") or {}).get("severity")
        if severity not in (ERROR, WARNING):
            raise SuiteError(f"{path}: expectations[{i}] ({e.get('type')}) needs meta.severity error|warning, not {severity!r}")
        if not isinstance(e.get("kwargs"), dict) or not e.get("type"):
            raise SuiteError(f"{path}: expectations[{i}] needs a type and kwargs")
    return Suite(name=data.get("name") or Path(path).stem, path=Path(path), expectations=tuple(expectations),
                 meta=data.get("meta") or {})


@cache
def all_suites(directory: Path | None = None) -> dict[str, Suite]:
    directory = directory or suites_dir()
    return {s.name: s for s in (load_suite(p) for p in sorted(Path(directory).glob("*.json")))}


def raw_suite_name(system_id: str, dataset_id: str) -> str:
    return f"raw.{system_id}.{dataset_id}"


def mart_suite_name(model: str) -> str:
    return f"marts.{model}"
