"""Loading and validating the inventory: YAML -> JSON Schema -> rules -> `Inventory`.

Every problem is collected (schema errors, rule violations, duplicate YAML keys) and named by the
entry and field it concerns, with the YAML line, so one run tells an editor everything to fix.
"""
from __future__ import annotations

import dataclasses
import json
import os
from functools import lru_cache
from pathlib import Path

from data_inventory import rules
from data_inventory.model import Inventory
from data_inventory.problems import InventoryError, Problem, describe_path
from data_inventory.yaml_source import YamlDocument, YamlSyntaxError

PACKAGE_DIR = Path(__file__).resolve().parent
DEFAULT_PATH = PACKAGE_DIR / "inventory.yaml"
SCHEMA_PATH = PACKAGE_DIR / "inventory.schema.json"
INVENTORY_ENV = "CITYSTAT_INVENTORY"  # another city's inventory, without touching the shipped one


def inventory_path(path: str | os.PathLike | None = None) -> Path:
    """The inventory to read: `path`, else $CITYSTAT_INVENTORY, else the shipped data_inventory/inventory.yaml."""
    return Path(path or os.environ.get(INVENTORY_ENV) or DEFAULT_PATH)


def validate(path: str | os.PathLike | None = None) -> list[Problem]:
    """Every problem in the inventory at `path` (empty when it is valid)."""
    problems, _ = _check(inventory_path(path))
    return problems


_LOADED: dict[tuple[str, int, int], Inventory] = {}  # one validation per file version and process


def load_inventory(path: str | os.PathLike | None = None) -> Inventory:
    """The validated inventory; raises `InventoryError` listing every problem otherwise.

    A file already loaded unchanged (same path, size and modification time) is not parsed and validated again:
    the Dagster definitions ask for it from several integrations, and validation costs ~0.4 s a time."""
    path = inventory_path(path)
    try:
        stat = path.stat()
        version = (str(path.resolve()), stat.st_mtime_ns, stat.st_size)
    except OSError:
        version = None
    if version is not None and version in _LOADED:
        return _LOADED[version]
    problems, data = _check(path)
    if problems:
        raise InventoryError(problems, path)
    inventory = Inventory.from_dict(data, path=path)
    if version is not None:
        _LOADED.clear()
        _LOADED[version] = inventory
    return inventory


@lru_cache(maxsize=1)
def schema() -> dict:
    return json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))


@lru_cache(maxsize=1)
def _validator():
    import jsonschema  # imported here so `citystat --help` stays fast

    cls = jsonschema.Draft202012Validator
    cls.check_schema(schema())
    return cls(schema(), format_checker=cls.FORMAT_CHECKER)


def _check(path: Path) -> tuple[list[Problem], object]:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return [Problem("inventory", "", f"file not found: {path}")], None
    except (OSError, UnicodeDecodeError) as exc:
        return [Problem("inventory", "", f"cannot read {path}: {exc}")], None
    try:
        document = YamlDocument(text)
    except YamlSyntaxError as exc:
        return [Problem("inventory", "", str(exc), exc.line)], None

    data = document.data
    problems: list[Problem] = []

    def at(path_: tuple, message: str) -> Problem:
        entry, field = describe_path(data, path_)
        return Problem(entry, field, message, document.line_of(path_))

    for dup in document.duplicate_keys():
        entry, field = describe_path(data, (*dup.path, dup.key))
        problems.append(Problem(entry, field, f"duplicate key (first on line {dup.first_line}); YAML would keep only the last", dup.line))
    seen: set[tuple] = set()
    for error in _validator().iter_errors(data):
        for error_path, message in _translate(error):
            if (error_path, message) not in seen:
                seen.add((error_path, message))
                problems.append(at(error_path, message))
    for finding in rules.check(data, line_of=document.line_of):
        problems.append(at(finding.path, finding.message))
    problems.sort(key=lambda p: (p.line or 0, p.entry, p.field))
    return _without_secrets(problems, data), data


def _without_secrets(problems: list[Problem], data) -> list[Problem]:
    """No message echoes a value that embeds a credential (a schema error quotes the value it rejects)."""
    secret_values = sorted({v for _, v in rules._strings(data, ()) if rules.credential_problem(v)}, key=len, reverse=True)
    if not secret_values:
        return problems
    out = []
    for problem in problems:
        message = problem.message
        for value in secret_values:
            message = message.replace(repr(value), "the value (not shown: it embeds credentials)").replace(value, "(not shown)")
        out.append(dataclasses.replace(problem, message=message) if message != problem.message else problem)
    return out


def _translate(error) -> list[tuple[tuple, str]]:
    """(path, message) pairs for one schema error, in words an inventory editor understands."""
    path = tuple(error.absolute_path)
    instance, schema_ = error.instance, error.schema
    kind = error.validator
    if kind == "required" and isinstance(instance, dict):
        return [((*path, name), "is required but missing") for name in error.validator_value if name not in instance]
    if kind == "additionalProperties" and isinstance(instance, dict):
        allowed = sorted(schema_.get("properties", {}))
        extra = [key for key in instance if key not in allowed]
        return [((*path, key), f"unknown key (allowed here: {', '.join(allowed)})") for key in extra]
    if kind == "enum":
        return [(path, f"{instance!r} is not one of {', '.join(map(str, error.validator_value))}")]
    if kind == "const":
        return [(path, f"{instance!r} must be {error.validator_value!r}")]
    if kind == "type":
        return [(path, f"must be of type {error.validator_value}, got {_json_type(instance)} {instance!r}")]
    if kind == "pattern" and "description" in schema_:
        return [(path, f"{instance!r} is not {schema_['description']}")]
    if kind == "format":
        return [(path, f"{instance!r} is not a valid {error.validator_value}")]
    if kind == "minProperties":
        return [(path, "must not be empty")]
    return [(path, error.message)]


def _json_type(value) -> str:
    if value is None:
        return "null"
    return {bool: "boolean", int: "integer", float: "number", str: "string", list: "array", dict: "object"}.get(type(value), type(value).__name__)
