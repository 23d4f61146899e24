"""Inventory rules JSON Schema cannot express: unique ids, keys that name declared fields, safe SQL
identifiers, connector consistency and locations that must not embed secrets.

Works on the raw parsed YAML and tolerates any shape (the schema reports shape errors), so one run
reports every problem at once.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Callable, Iterator

from data_inventory.paths import path_escape

IDENTIFIER = re.compile(r"^[a-z][a-z0-9_]*$")

# Names a source protocol dictates, so they are kept although SQL needs them quoted.
SODA_SYSTEM_FIELDS = frozenset({":id", ":updated_at", ":created_at"})
PROTOCOL_FIELD_NAMES = {"open311": frozenset({"group"}), "soda": SODA_SYSTEM_FIELDS}

# Reserved in PostgreSQL (the scale-out warehouse) but missing from DuckDB's keyword list.
_POSTGRES_ONLY_RESERVED = {
    "current_catalog", "current_date", "current_role", "current_schema", "current_time",
    "current_timestamp", "current_user", "localtime", "localtimestamp", "session_user", "user",
}  # fmt: skip

# A secret in a URL or beside one: user:password@ (also an empty user, :password@), a token before the @ of a web
# URL, or a parameter (password=, pass=, token=, api_key=, ...) in a query string or a connection string.
_URL = re.compile(r"(?i)\b([a-z][a-z0-9+.-]*)://(\S*)")
_SECRET_NAME = r"(password|passwd|pass|pwd|secret|client_secret|token|app_token|access_token|auth_token|api[_-]?key|apikey|access[_-]?key|private[_-]?key|key|auth|authorization|credentials?|sig|signature)"
_CREDENTIAL_PARAMETER = re.compile(rf"(?i)(^|[^a-z0-9_])\$*{_SECRET_NAME}\s*[=:]\s*[^\s&;,]")
# Database URLs may name the account to log in as (the password comes from the environment); a web URL has no
# user name that is not a secret (tokens, basic auth).
_USER_NAME_ALLOWED = frozenset({"postgresql", "postgres", "postgresql+psycopg", "postgresql+psycopg2", "mysql", "mssql", "oracle"})
# Fields made to hold a URL, a connection string or a path; any other text is still checked for URLs it embeds.
_URL_FIELDS = frozenset({"default", "note", "url", "open_data_portal"})
PATH_CONNECTORS = frozenset({"sqlite", "csv_drop", "xlsx_drop", "manual_submission"})


def credential_problem(value: str, whole_field: bool = True) -> str | None:
    """What kind of credential `value` embeds (never the credential itself), or None."""
    for match in _URL.finditer(value):
        scheme, authority = match.group(1).lower(), match.group(2)
        if "@" in authority:
            # everything before the last @: a password may itself hold / ? # or @
            userinfo = authority.rsplit("@", 1)[0]
            if ":" in userinfo:
                return "a user:password@ (or :password@) in a URL"
            if "/" not in userinfo and scheme not in _USER_NAME_ALLOWED:
                return "a token or user name before the @ of a URL"
    if whole_field:
        if _CREDENTIAL_PARAMETER.search(value):
            return "a credential parameter (password=, pass=, token=, api_key=, ...)"
    else:
        for match in re.finditer(r"(?i)\b[a-z][a-z0-9+.-]*://\S*", value):
            if _CREDENTIAL_PARAMETER.search(match.group(0).split("?", 1)[-1]) and "?" in match.group(0):
                return "a credential parameter in a URL's query string"
    return None

CONNECTORS_NEEDING_SHEET = {"xlsx_drop"}
DROP_SUFFIX = {"csv_drop": ".csv", "xlsx_drop": ".xlsx", "manual_submission": ".csv"}
OPEN311_ENDPOINTS = {"services.json", "requests.json"}
SODA_RESOURCE_ID = re.compile(r"^[a-z0-9]{4}-[a-z0-9]{4}$")
TABLE_NAME = re.compile(r"^[a-z_][a-z0-9_]*(\.[a-z_][a-z0-9_]*)?$")
CURSOR_TYPES = {"datetime", "date", "integer"}
RANGE_TYPES = {"integer", "number"}


@dataclass(frozen=True)
class Finding:
    path: tuple  # where in the parsed YAML the problem sits (keys and list indices)
    message: str


@lru_cache(maxsize=1)
def sql_reserved_words() -> frozenset[str]:
    """Words that cannot be a bare column or table name: DuckDB's own list plus PostgreSQL's extras."""
    import duckdb

    rows = duckdb.sql(
        "SELECT keyword_name FROM duckdb_keywords() WHERE keyword_category IN ('reserved', 'type_function')"
    ).fetchall()
    return frozenset(name.lower() for (name,) in rows) | _POSTGRES_ONLY_RESERVED


def check(data, line_of: Callable[[tuple], int | None] = lambda path: None) -> Iterator[Finding]:
    """Every rule violation in the parsed inventory `data`."""
    if not isinstance(data, dict):
        return
    yield from secrets(data)
    seen_departments: dict[str, tuple] = {}
    seen_systems: dict[str, tuple] = {}
    for d_index, department in _items(data.get("departments")):
        d_path = ("departments", d_index)
        d_id = department.get("id")
        yield from _identifier(d_id, (*d_path, "id"), "department id")
        yield from _first_use(seen_departments, d_id, (*d_path, "id"), "department id", line_of)
        for s_index, system in _items(department.get("systems")):
            s_path = (*d_path, "systems", s_index)
            s_id = system.get("id")
            yield from _identifier(s_id, (*s_path, "id"), "system id")
            yield from _first_use(seen_systems, s_id, (*s_path, "id"), "system id (unique citywide)", line_of)
            seen_datasets: dict[str, tuple] = {}
            for ds_index, dataset in _items(system.get("datasets")):
                ds_path = (*s_path, "datasets", ds_index)
                ds_id = dataset.get("id")
                yield from _identifier(ds_id, (*ds_path, "id"), "dataset id")
                yield from _first_use(seen_datasets, ds_id, (*ds_path, "id"), f"dataset id in system {s_id!r}", line_of)
                yield from _dataset(dataset, ds_path, line_of)
    yield from _references(data)


def _references(data: dict) -> Iterator[Finding]:
    """A column holding another system's key (implements.references) names a system that implements that entity."""
    from data_inventory.entities import reference_problems

    generated: dict[str, set[str]] = {}
    declared = []
    for d_index, department in _items(data.get("departments")):
        for s_index, system in _items(department.get("systems")):
            for ds_index, dataset in _items(system.get("datasets")):
                implements = dataset.get("implements")
                if not isinstance(implements, dict):
                    continue
                if implements.get("columns"):
                    generated.setdefault(system.get("id"), set()).add(implements.get("entity"))
                if implements.get("references"):
                    declared.append((("departments", d_index, "systems", s_index, "datasets", ds_index, "implements"), implements))
    for path, implements in declared:
        for where, problem in reference_problems(implements, generated):
            yield Finding((*path, *where), problem)


def _dataset(dataset: dict, path: tuple, line_of) -> Iterator[Finding]:
    connector = dataset.get("connector")
    fields: dict[str, dict] = {}
    seen_fields: dict[str, tuple] = {}
    for f_index, field in _items(dataset.get("fields")):
        f_path = (*path, "fields", f_index)
        name = field.get("name")
        yield from _field_name(name, connector, (*f_path, "name"))
        yield from _first_use(seen_fields, name, (*f_path, "name"), "field name", line_of)
        yield from _field_constraints(field, f_path)
        if isinstance(name, str):
            fields.setdefault(name, field)

    primary_key = dataset.get("primary_key")
    if isinstance(primary_key, list):
        for i, name in enumerate(primary_key):
            if isinstance(name, str) and name not in fields:
                yield Finding((*path, "primary_key", i), f"names {name!r}, which is not a declared field")
            elif isinstance(name, str) and fields[name].get("required") is not True:
                yield Finding((*path, "primary_key", i), f"field {name!r} is part of the primary key, so it must be required: true")

    cursor = dataset.get("cursor_field")
    if isinstance(cursor, str):
        if cursor not in fields:
            yield Finding((*path, "cursor_field"), f"names {cursor!r}, which is not a declared field")
        elif fields[cursor].get("type") not in CURSOR_TYPES:
            yield Finding((*path, "cursor_field"), f"field {cursor!r} has type {fields[cursor].get('type')!r}; a cursor must be one of {', '.join(sorted(CURSOR_TYPES))}")

    mapping = dataset.get("column_mapping")
    if isinstance(mapping, dict):
        for old, new in mapping.items():
            if isinstance(new, str) and new not in fields:
                yield Finding((*path, "column_mapping", old), f"renames {old!r} to {new!r}, which is not a declared field")

    implements = dataset.get("implements")
    if isinstance(implements, dict):
        from data_inventory.entities import implements_problems

        for where, problem in implements_problems(implements, fields):
            yield Finding((*path, "implements", *where), problem)

    yield from _connector(dataset, path, connector)
    yield from _paths(dataset, path, connector)


def _connector(dataset: dict, path: tuple, connector) -> Iterator[Finding]:
    update_method = dataset.get("update_method")
    if update_method == "automated" and connector in ("none", "manual_submission"):
        yield Finding((*path, "connector"), f"is {connector!r} but update_method is 'automated': an automated dataset needs a connector that pulls it")
    if not isinstance(connector, str) or connector == "none":
        if dataset.get("sheet") is not None:
            yield Finding((*path, "sheet"), "only applies to the xlsx_drop connector")
        return
    location = dataset.get("location")
    if not isinstance(location, dict) or not (location.get("env") or location.get("default")):
        yield Finding((*path, "location"), f"connector {connector!r} needs a location with an env variable or a default")
    source_object = dataset.get("source_object")
    if source_object is None:
        yield Finding((*path, "source_object"), f"connector {connector!r} needs a source_object (table, resource id, endpoint or file glob)")
    elif isinstance(source_object, str):
        yield from _source_object(source_object, (*path, "source_object"), connector)
    if not dataset.get("primary_key"):
        yield Finding((*path, "primary_key"), f"connector {connector!r} lands rows, so the dataset needs a primary_key to deduplicate them")
    if connector in CONNECTORS_NEEDING_SHEET and not dataset.get("sheet"):
        yield Finding((*path, "sheet"), f"connector {connector!r} needs the sheet to read")
    if connector not in CONNECTORS_NEEDING_SHEET and dataset.get("sheet") is not None:
        yield Finding((*path, "sheet"), "only applies to the xlsx_drop connector")


def _source_object(source_object: str, path: tuple, connector: str) -> Iterator[Finding]:
    if connector == "open311" and source_object not in OPEN311_ENDPOINTS:
        yield Finding(path, f"{source_object!r} is not an Open311 endpoint ({', '.join(sorted(OPEN311_ENDPOINTS))})")
    elif connector == "soda" and not SODA_RESOURCE_ID.match(source_object):
        yield Finding(path, f"{source_object!r} is not a SODA resource id (like abcd-1234)")
    elif connector in ("sqlite", "postgres") and not TABLE_NAME.match(source_object):
        yield Finding(path, f"{source_object!r} is not a table name (optionally schema.table, lowercase)")
    elif connector in DROP_SUFFIX and not source_object.lower().endswith(DROP_SUFFIX[connector]):
        yield Finding(path, f"{source_object!r} is not a {DROP_SUFFIX[connector]} file glob (connector {connector!r})")


def secrets(data) -> Iterator[Finding]:
    """Every string of the inventory that embeds a credential: the fields made for URLs, connection strings and
    paths (location.default, location.note, publication.url, city.open_data_portal) in full, any other text for
    the URLs it contains. The value is never echoed: it may be a live secret."""
    for value_path, value in _strings(data, ()):
        key = next((step for step in reversed(value_path) if isinstance(step, str)), None)
        if key == "env":
            continue
        what = credential_problem(value, whole_field=key in _URL_FIELDS)
        if what:
            yield Finding(value_path, f"embeds credentials ({what}); secrets come only from the environment variable named in location.env")


def _strings(value, path: tuple) -> Iterator[tuple[tuple, str]]:
    if isinstance(value, str):
        yield path, value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _strings(item, (*path, key))
    elif isinstance(value, list):
        for i, item in enumerate(value):
            yield from _strings(item, (*path, i))


def _paths(dataset: dict, path: tuple, connector) -> Iterator[Finding]:
    """Locations and file globs stay inside the data roots."""
    if connector not in PATH_CONNECTORS:
        return
    location = dataset.get("location")
    if isinstance(location, dict) and isinstance(location.get("default"), str):
        why = path_escape(location["default"])
        if why:
            yield Finding((*path, "location", "default"), f"{why}: a {connector} location must stay inside the data roots")
    source_object = dataset.get("source_object")
    if isinstance(source_object, str) and connector != "sqlite":
        why = path_escape(source_object)
        if why or "/" in source_object or "\\" in source_object:
            yield Finding((*path, "source_object"), f"{why or 'names a sub-folder'}: a file glob names files in the drop folder itself")


def _field_name(name, connector, path: tuple) -> Iterator[Finding]:
    if not isinstance(name, str):
        return
    allowed_by_protocol = PROTOCOL_FIELD_NAMES.get(connector, frozenset())
    if name.startswith(":"):
        if name not in allowed_by_protocol:
            yield Finding(path, f"{name!r} is not a safe SQL identifier; only SODA datasets may declare the system fields {', '.join(sorted(SODA_SYSTEM_FIELDS))}")
        return
    if name in allowed_by_protocol:
        return
    yield from _identifier(name, path, "field name")


def _identifier(value, path: tuple, what: str) -> Iterator[Finding]:
    # Shape errors (pattern, length) come from the schema; reserved words only from here.
    if isinstance(value, str) and IDENTIFIER.match(value) and value in sql_reserved_words():
        yield Finding(path, f"{what} {value!r} is a SQL reserved word, so it is not a safe SQL identifier; choose another name")


def _field_constraints(field: dict, path: tuple) -> Iterator[Finding]:
    field_type = field.get("type")
    if "allowed_values" in field and field_type != "string":
        yield Finding((*path, "allowed_values"), f"only applies to string fields (this field is {field_type!r}; use minimum/maximum)")
    if "pattern" in field:
        if field_type != "string":
            yield Finding((*path, "pattern"), f"only applies to string fields (this field is {field_type!r})")
        elif isinstance(field.get("pattern"), str):
            try:
                re.compile(field["pattern"])
            except re.error as exc:
                yield Finding((*path, "pattern"), f"is not a valid regular expression: {exc}")
    for bound in ("minimum", "maximum"):
        if bound in field and field_type not in RANGE_TYPES:
            yield Finding((*path, bound), f"only applies to integer and number fields (this field is {field_type!r})")
    low, high = field.get("minimum"), field.get("maximum")
    if _is_number(low) and _is_number(high) and low > high:
        yield Finding((*path, "minimum"), f"minimum {low} is greater than maximum {high}")


def _first_use(seen: dict, value, path: tuple, what: str, line_of) -> Iterator[Finding]:
    if not isinstance(value, str):
        return
    if value in seen:
        line = line_of(seen[value])
        where = f" (first declared on line {line})" if line else ""
        yield Finding(path, f"duplicate {what} {value!r}{where}")
    else:
        seen[value] = path


def _items(value) -> list[tuple[int, dict]]:
    return [(i, item) for i, item in enumerate(value) if isinstance(item, dict)] if isinstance(value, list) else []


def _is_number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)
