"""The canonical entities (data_inventory/entities.yaml): the columns a fact reads whatever system a row came from,
and the check of a dataset's ``implements`` declaration against them.

    from data_inventory.entities import load_entities
    entity = load_entities()["service_request"]   # Entity: columns, key, union model, fact
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path

import yaml

ENTITIES_PATH = Path(__file__).with_name("entities.yaml")
SQL_TYPES = {"string": "varchar", "integer": "bigint", "number": "double precision", "boolean": "boolean", "date": "date",
             "datetime": "timestamp"}


@dataclass(frozen=True)
class EntityColumn:
    name: str
    type: str
    description: str
    required: bool = False
    allowed_values: tuple[str, ...] = ()
    fallback: tuple[str, ...] = ()
    redact: bool = False
    upper: bool = False
    references: str | None = None
    default: str | None = None
    not_before: str | None = None
    not_future: bool = False
    agrees_with: str | None = None
    required_when: str | None = None
    declared_sql_type: str | None = None

    @property
    def sql_type(self) -> str:
        return self.declared_sql_type or SQL_TYPES[self.type]


@dataclass(frozen=True)
class Entity:
    id: str
    title: str
    union_model: str
    fact: str
    key: str
    version: str
    columns: tuple[EntityColumn, ...]

    def column(self, name: str) -> EntityColumn | None:
        return next((c for c in self.columns if c.name == name), None)


@cache
def load_entities(path: Path = ENTITIES_PATH) -> dict[str, Entity]:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    entities = {}
    for entity_id, e in data["entities"].items():
        columns = tuple(EntityColumn(
            name=c["name"], type=c["type"], description=c.get("description", ""), required=bool(c.get("required")),
            allowed_values=tuple(c.get("allowed_values") or ()), fallback=tuple(c.get("fallback") or ()),
            redact=bool(c.get("redact")), upper=bool(c.get("upper")), references=c.get("references"), default=c.get("default"), not_before=c.get("not_before"), not_future=bool(c.get("not_future")),
            agrees_with=c.get("agrees_with"), required_when=c.get("required_when"),
            declared_sql_type=c.get("sql_type")) for c in e["columns"])
        entities[entity_id] = Entity(id=entity_id, title=e["title"], union_model=e["union_model"], fact=e["fact"],
                                     key=e["key"], version=e["version"], columns=columns)
    return entities


def reference_problems(implements: dict, generated: dict[str, set[str]]) -> list[tuple[tuple, str]]:
    """(path inside `implements`, problem) for its `references`; `generated` is {system id: the entities it implements
    with generated staging} across the inventory (only those prefix their keys with the system id)."""
    entity = load_entities().get(implements.get("entity"))
    problems = []
    for name, system in (implements.get("references") or {}).items():
        column = entity.column(name) if entity else None
        if column is None or not column.references:
            problems.append((("references", name), f"{name!r} is not a column of {implements.get('entity')} that holds another entity's key"))
        elif name not in (implements.get("columns") or {}):
            problems.append((("references", name), f"{name!r} is not mapped in columns"))
        elif column.references not in generated.get(system, set()):
            problems.append((("references", name), f"names system {system!r}, which implements no {column.references} "
                             "with generated staging in this inventory"))
    return problems


# the field types staging can read as a canonical column's type (macros/casting.sql to_declared)
_READABLE = {"string": None, "integer": {"integer"}, "number": {"integer", "number"}, "boolean": {"boolean"},
             "date": {"date", "datetime"}, "datetime": {"datetime"}}


def _readable_as(field: dict, column_type: str) -> bool:
    """A field can feed a column of this type: any field feeds a string column; a field with a code_map gives its
    mapped values; otherwise the field's own type must read as the column's (a drafted `string` column of mixed
    timestamp formats does not read as a datetime)."""
    accepted = _READABLE.get(column_type)
    return accepted is None or (field.get("format") or {}).get("code_map") is not None or field.get("type") in accepted


def implements_problems(implements: dict, fields: dict[str, dict]) -> list[tuple[tuple, str]]:
    """(path inside `implements`, problem) for a dataset's declaration against its entity's contract; `fields` are the
    dataset's declared fields by name."""
    entities = load_entities()
    entity = entities.get(implements.get("entity"))
    if entity is None:
        return [(("entity",), f"names entity {implements.get('entity')!r}; known: {', '.join(sorted(entities))}")]
    columns = implements.get("columns") or {}
    if implements.get("staging_model"):
        if columns:
            return [(("columns",), "a hand-written staging_model produces the columns itself: give columns or staging_model, not both")]
        return []
    problems = []
    for canonical, field_name in columns.items():
        column = entity.column(canonical)
        if column is None:
            problems.append((("columns", canonical), f"{canonical!r} is not a column of {entity.id} (see data_inventory/entities.yaml)"))
        elif field_name not in fields:
            problems.append((("columns", canonical), f"maps {canonical!r} to {field_name!r}, which is not a declared field"))
        elif (sensitivity := fields[field_name].get("sensitivity", "public")) == "pii" or (sensitivity != "public" and not column.redact):
            problems.append((("columns", canonical), f"maps {canonical!r} to {field_name!r}, marked {sensitivity}: personal data never "
                             "leaves raw landing, and sensitive free text only reaches a redacted column"))
        elif not _readable_as(fields[field_name], column.type):
            problems.append((("columns", canonical), f"maps {canonical!r} ({column.type}) to {field_name!r}, a "
                             f"{fields[field_name].get('type')} field: declare the field's type and format (or a code_map), "
                             "or every row is quarantined as uncastable_value"))
    for column in entity.columns:
        if column.required and column.name not in columns and column.default is None:
            problems.append((("columns",), f"the required column {column.name!r} of {entity.id} is not mapped"))
    return problems
