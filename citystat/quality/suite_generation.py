"""The Great Expectations suites of ``expectations/suites/``, built from the inventory and the hand-written rules
(written by ``citystat generate``; ``citystat generate --check`` fails while a suite is stale).

One suite per automated inventory dataset (``raw.<system>.<dataset>``, validated on each new landing
batch) and one per key mart (``marts.<model>``, validated on the working warehouse). A raw suite is the
**baseline** written from the inventory's field definitions (required -> not null, type -> parses,
allowed values -> in set, range -> between, pattern -> matches, primary key -> unique per file/batch)
followed by the **hand-written rules** of ``expectations/rules/<suite>.json``. Regeneration rewrites the
baseline only, so rules are never lost; a baseline expectation whose severity a reviewer changed in the
suite file keeps that severity (matched by type and columns).

Every expectation's ``meta`` says ``severity`` (error blocks downstream, warning reports), ``rule`` (the
quarantine vocabulary of dbt staging, so GX findings and quarantine rows speak the same words),
``origin`` (inventory | rules) and ``description``. See expectations/README.md.
"""
from __future__ import annotations

import json
from pathlib import Path

from citystat.ingestion import is_automated
from citystat.quality.suites import ERROR, LANDED_SUFFIX, WARNING, SuiteError, raw_suite_name, suites_dir
from citystat.settings import project_root
from data_inventory import DatasetRef, Inventory, load_inventory

GENERATED_BY = "citystat generate"


def rules_dir() -> Path:
    return project_root() / "expectations" / "rules"



# How the landed text of a typed field must look (the landing keeps file-drop values as text; the runner
# exposes that text as `<field>__landed` beside the typed value).
TYPE_PATTERNS = {
    "integer": r"^\s*[-+]?[\d,]*\d(\.0*)?\s*$",
    "number": r"^\s*[-+]?\$?[\d,]*\.?\d+([eE][-+]?\d+)?\s*$",
    "date": r"^\d{4}-\d{2}-\d{2}( 00:00:00)?$",
    "datetime": r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?$",
    "boolean": r"^(?i:true|false|t|f|y|n|yes|no|0|1|0\.0|1\.0)$",
}


def record_id_fields(ref: DatasetRef) -> list[str]:
    """The fields a record id is made of: the primary key, id-like fields first (``SEG-243008@2024-08-23``),
    as the demo city's defect manifest and people name records."""
    pk = list(ref.dataset.primary_key)
    return sorted(pk, key=lambda name: (not name.endswith("_id"), pk.index(name)))


def _expectation(type_: str, kwargs: dict, rule: str, description: str, severity: str = WARNING) -> dict:
    return {"type": type_, "kwargs": kwargs,
            "meta": {"severity": severity, "rule": rule, "origin": "inventory", "description": description}}


def baseline(ref: DatasetRef) -> list[dict]:
    """The expectations the inventory's field definitions imply. Row-level: every failing row is also
    quarantined by dbt staging, so they report (warning) rather than stop the dataset."""
    out: list[dict] = []
    for f in ref.dataset.fields:
        if f.sensitivity == "pii" and not f.required:
            continue  # dropped before staging; nothing downstream depends on it
        if f.required:
            out.append(_expectation("expect_column_values_to_not_be_null", {"column": f.name}, "missing_required",
                                    f"{f.name} is required (and must parse as {f.type})"))
        if f.type in TYPE_PATTERNS and not f.format:  # a declared format is read by the typed check (landed.typed_sql)
            out.append(_expectation("expect_column_values_to_match_regex",
                                    {"column": f.name + LANDED_SUFFIX, "regex": TYPE_PATTERNS[f.type]}, "uncastable_value",
                                    f"{f.name} as landed reads as a {f.type}"))
        if f.pattern:
            out.append(_expectation("expect_column_values_to_match_regex", {"column": f.name, "regex": f.pattern},
                                    "invalid_code", f"{f.name} matches {f.pattern}"))
        if f.allowed_values:
            out.append(_expectation("expect_column_values_to_be_in_set",
                                    {"column": f.name, "value_set": list(f.allowed_values)}, "invalid_code",
                                    f"{f.name} is one of the inventory's allowed values"))
        if f.minimum is not None or f.maximum is not None:
            kwargs = {"column": f.name}
            if f.minimum is not None:
                kwargs["min_value"] = f.minimum
            if f.maximum is not None:
                kwargs["max_value"] = f.maximum
            rule = "negative_amount" if f.minimum == 0 else "out_of_range"
            out.append(_expectation("expect_column_values_to_be_between", kwargs, rule,
                                    f"{f.name} lies in [{f.minimum}, {f.maximum}]"))
    if ref.dataset.primary_key:
        pk = list(ref.dataset.primary_key)
        out.append(_expectation("expect_compound_columns_to_be_unique", {"column_list": [*pk, "_source_file"]},
                                "duplicate_row", f"one row per {', '.join(pk)} in each file (file drops) or batch"))
    return out


def _identity(expectation: dict) -> tuple:
    kwargs = expectation["kwargs"]
    columns = tuple(kwargs.get(k) for k in ("column", "column_A", "column_B")) + tuple(kwargs.get("column_list") or ())
    return expectation["type"], columns


def load_rules(name: str) -> dict:
    path = rules_dir() / f"{name}.json"
    if not path.exists():
        return {}
    try:
        rules = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise SuiteError(f"{path}: not valid JSON ({exc})") from exc
    for i, expectation in enumerate(rules.get("expectations", [])):
        meta = expectation.get("meta") or {}
        for key in ("severity", "rule", "description"):
            if not meta.get(key):
                raise SuiteError(f"{path}: expectations[{i}] ({expectation.get('type')}) has no meta.{key}")
        if meta["severity"] not in (ERROR, WARNING):
            raise SuiteError(f"{path}: expectations[{i}] meta.severity must be error or warning, not {meta['severity']!r}")
    return rules


def build_suite(name: str, generated: list[dict], meta: dict, previous: dict | None) -> dict:
    rules = load_rules(name)
    reviewed = {_identity(e): e["meta"].get("severity") for e in (previous or {}).get("expectations", [])
                if e.get("meta", {}).get("origin") == "inventory"}
    expectations = []
    for expectation in generated:
        if reviewed.get(_identity(expectation)) in (ERROR, WARNING):
            expectation["meta"]["severity"] = reviewed[_identity(expectation)]
        expectations.append(expectation)
    for expectation in rules.get("expectations", []):
        expectations.append({**expectation, "meta": {**expectation["meta"], "origin": "rules"}})
    suite_meta = {**meta, **{k: v for k, v in rules.items() if k not in ("expectations", "notes")}}
    return {"name": name, "meta": suite_meta, "expectations": expectations}


def build_all(inventory: Inventory, previous: dict[str, dict]) -> dict[str, dict]:
    suites = {}
    for ref in inventory.datasets():
        if not is_automated(ref):
            continue
        name = raw_suite_name(*ref.key)
        meta = {
            "generated_by": GENERATED_BY,
            "target": {"kind": "raw", "system": ref.system.id, "dataset": ref.dataset.id},
            "record_id": record_id_fields(ref),
        }
        suites[name] = build_suite(name, baseline(ref), meta, previous.get(name))
    for path in sorted(rules_dir().glob("marts.*.json")):
        name = path.stem
        meta = {"generated_by": GENERATED_BY, "target": {"kind": "mart", "model": name.split(".", 1)[1]}}
        suites[name] = build_suite(name, [], meta, previous.get(name))
    return suites


def render(suite: dict) -> str:
    return json.dumps(suite, indent=2, ensure_ascii=False) + "\n"


def previous_suites() -> dict[str, dict]:
    """The suites on disk, by name (their reviewed severities survive regeneration)."""
    return {p.stem: json.loads(p.read_text(encoding="utf-8")) for p in sorted(suites_dir().glob("*.json"))}


def suite_files(inventory: Inventory | None = None) -> dict[Path, str]:
    """{suite path: its text} for every suite the inventory and the rules define."""
    suites = build_all(inventory or load_inventory(), previous_suites())
    return {suites_dir() / f"{name}.json": render(suite) for name, suite in suites.items()}
