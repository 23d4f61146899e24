"""The inventory as Python objects: departments -> systems -> datasets -> fields.

Objects are built only from a validated inventory (see `loader.load_inventory`). Attribute access is
the API; `obj["key"]` and `obj.get("key")` also work, so code written against the YAML's dict shape
keeps working.
"""
from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

from data_inventory.paths import env_location_escape

DATA_DIR_ENV = "CITYSTAT_DATA_DIR"
DEFAULT_DATA_DIR = "var/demo_city"


class _MappingAccess:
    """Lets `entry["connector"]` / `entry.get("cursor_field")` read attributes, like the YAML dicts."""

    def __getitem__(self, key: str):
        if key in {f.name for f in dataclasses.fields(self)}:  # type: ignore[arg-type]
            return getattr(self, key)
        raise KeyError(key)

    def get(self, key: str, default=None):
        try:
            value = self[key]
        except KeyError:
            return default
        return default if value is None else value


@dataclass(frozen=True)
class Contact(_MappingAccess):
    name: str
    email: str
    role: str | None = None

    @classmethod
    def from_dict(cls, d: dict) -> "Contact":
        return cls(name=d["name"], email=d["email"], role=d.get("role"))


@dataclass(frozen=True)
class Location(_MappingAccess):
    env: str | None = None  # environment variable that overrides `default` (where secrets go)
    default: str | None = None  # URL, SQLAlchemy URL or path (relative paths: relative to the data dir)
    note: str | None = None  # where a non-automated dataset is kept

    @classmethod
    def from_dict(cls, d: dict) -> "Location":
        return cls(env=d.get("env"), default=d.get("default"), note=d.get("note"))


@dataclass(frozen=True)
class Publication(_MappingAccess):
    status: str  # published | planned | not_planned
    url: str | None = None


def _frozen_format(fmt: dict) -> tuple:
    return tuple(sorted((k, tuple(sorted(v.items())) if isinstance(v, dict) else tuple(v) if isinstance(v, list) else v)
                        for k, v in fmt.items()))


@dataclass(frozen=True)
class Field(_MappingAccess):
    name: str
    type: str  # string | integer | number | boolean | date | datetime
    required: bool = False
    sensitivity: str = "public"  # public | sensitive | pii
    description: str | None = None
    allowed_values: tuple[str, ...] | None = None
    pattern: str | None = None
    minimum: float | None = None
    maximum: float | None = None
    # how the source writes values (inventory `format`: datetime/date strptime format, timezone, separators,
    # parentheses negatives, true/false values, code_map), as sorted (key, value) pairs so a Field stays hashable
    format: tuple = ()

    def value_format(self) -> dict:
        return {k: (dict(v) if k == "code_map" else list(v) if isinstance(v, tuple) else v) for k, v in self.format}

    @classmethod
    def from_dict(cls, d: dict) -> "Field":
        allowed = d.get("allowed_values")
        return cls(
            name=d["name"],
            type=d["type"],
            required=d.get("required", False),
            sensitivity=d.get("sensitivity", "public"),
            description=d.get("description"),
            allowed_values=tuple(allowed) if allowed is not None else None,
            pattern=d.get("pattern"),
            minimum=d.get("minimum"),
            maximum=d.get("maximum"),
            format=_frozen_format(d.get("format") or {}),
        )


@dataclass(frozen=True)
class Dataset(_MappingAccess):
    id: str
    title: str
    description: str
    owner: Contact
    steward: Contact
    connector: str
    cadence: str
    freshness_hours: float
    update_method: str
    access_level: str
    publication: Publication
    priority: str
    fields: tuple[Field, ...]
    location: Location | None = None
    source_object: str | None = None
    cursor_field: str | None = None
    sheet: str | None = None
    column_mapping: dict[str, str] = dataclasses.field(default_factory=dict)
    primary_key: tuple[str, ...] = ()
    quality_concerns: tuple[str, ...] = ()
    keywords: tuple[str, ...] = ()
    # the canonical entity it feeds: {"entity": ..., "columns": {canonical: field}} or {"entity", "staging_model"}
    implements: dict | None = None

    @classmethod
    def from_dict(cls, d: dict) -> "Dataset":
        return cls(
            id=d["id"],
            title=d["title"],
            description=d["description"],
            owner=Contact.from_dict(d["owner"]),
            steward=Contact.from_dict(d["steward"]),
            connector=d["connector"],
            cadence=d["cadence"],
            freshness_hours=d["freshness_hours"],
            update_method=d["update_method"],
            access_level=d["access_level"],
            publication=Publication(**d["publication"]),
            priority=d["priority"],
            fields=tuple(Field.from_dict(f) for f in d["fields"]),
            location=Location.from_dict(d["location"]) if d.get("location") else None,
            source_object=d.get("source_object"),
            cursor_field=d.get("cursor_field"),
            sheet=d.get("sheet"),
            column_mapping=dict(d.get("column_mapping") or {}),
            primary_key=tuple(d.get("primary_key") or ()),
            quality_concerns=tuple(d.get("quality_concerns") or ()),
            keywords=tuple(d.get("keywords") or ()),
            implements=d.get("implements"),
        )

    @property
    def ingested(self) -> bool:
        """CityStat lands this dataset (its connector pulls or reads submissions)."""
        return self.connector != "none"


@dataclass(frozen=True)
class System(_MappingAccess):
    id: str
    name: str
    kind: str  # api | database | file_drop | spreadsheet | paper | desktop_database | none
    system_of_record: bool
    datasets: tuple[Dataset, ...]
    department_id: str
    description: str | None = None

    @classmethod
    def from_dict(cls, d: dict, department_id: str) -> "System":
        return cls(
            id=d["id"],
            name=d["name"],
            kind=d["kind"],
            system_of_record=d["system_of_record"],
            datasets=tuple(Dataset.from_dict(x) for x in d["datasets"]),
            department_id=department_id,
            description=d.get("description"),
        )


@dataclass(frozen=True)
class Department(_MappingAccess):
    id: str
    name: str
    contact: Contact
    systems: tuple[System, ...]

    @classmethod
    def from_dict(cls, d: dict) -> "Department":
        return cls(
            id=d["id"],
            name=d["name"],
            contact=Contact.from_dict(d["contact"]),
            systems=tuple(System.from_dict(s, d["id"]) for s in d["systems"]),
        )


@dataclass(frozen=True)
class DatasetRef:
    """One dataset with the department and system it belongs to."""

    department: Department
    system: System
    dataset: Dataset

    @property
    def key(self) -> tuple[str, str]:
        return (self.system.id, self.dataset.id)

    @property
    def name(self) -> str:
        """`<system_id>.<dataset_id>`: the name in defects.json, generation.json and dbt sources."""
        return f"{self.system.id}.{self.dataset.id}"

    @property
    def fields(self) -> tuple[Field, ...]:
        return self.dataset.fields

    @property
    def field_names(self) -> tuple[str, ...]:
        return tuple(f.name for f in self.dataset.fields)

    @property
    def pii_fields(self) -> tuple[str, ...]:
        """Names of fields marked pii (personal data)."""
        return tuple(f.name for f in self.dataset.fields if f.sensitivity == "pii")

    @property
    def restricted_fields(self) -> tuple[str, ...]:
        """Names of fields marked pii or sensitive: they never reach marts, exports or dashboards."""
        return tuple(f.name for f in self.dataset.fields if f.sensitivity != "public")


@dataclass(frozen=True)
class City(_MappingAccess):
    name: str
    population: int
    fiscal_year_start_month: int
    open_data_portal: str | None = None


@dataclass(frozen=True)
class Inventory:
    version: int
    updated: str  # YYYY-MM-DD the inventory was last reviewed
    city: City
    departments: tuple[Department, ...]
    path: Path | None = None

    @classmethod
    def from_dict(cls, d: dict, path: Path | None = None) -> "Inventory":
        return cls(
            version=d["version"],
            updated=d["updated"],
            city=City(**d["city"]),
            departments=tuple(Department.from_dict(x) for x in d["departments"]),
            path=path,
        )

    @property
    def systems(self) -> tuple[System, ...]:
        return tuple(s for d in self.departments for s in d.systems)

    def department(self, department_id: str) -> Department:
        for department in self.departments:
            if department.id == department_id:
                return department
        known = ", ".join(d.id for d in self.departments)
        raise KeyError(f"no department {department_id!r} in the inventory (known: {known})")

    def datasets(self, department: str | None = None) -> Iterator[DatasetRef]:
        """Every dataset, in inventory order; only one department's when `department` is given."""
        for dep in self.departments:
            if department is not None and dep.id != department:
                continue
            for system in dep.systems:
                for dataset in system.datasets:
                    yield DatasetRef(dep, system, dataset)

    def get(self, system_id: str, dataset_id: str) -> DatasetRef:
        for ref in self.datasets():
            if ref.key == (system_id, dataset_id):
                return ref
        raise KeyError(f"no dataset {system_id}.{dataset_id} in the inventory{f' {self.path}' if self.path else ''}")

    def resolve_location(self, ref: DatasetRef, data_dir: str | os.PathLike | None = None) -> str:
        return resolve_location(ref, data_dir)

    def to_dcat(self) -> dict:
        """The inventory as a DCAT-US 1.1 catalog (data.json)."""
        from data_inventory.dcat import to_dcat

        return to_dcat(self)


def resolve_location(ref: DatasetRef, data_dir: str | os.PathLike | None = None) -> str:
    """Where to read `ref` from: its env variable if set, else its default.

    A relative default path is resolved against `data_dir` (default $CITYSTAT_DATA_DIR, else
    var/demo_city); URLs and absolute paths are returned as they are.
    """
    location = ref.dataset.location
    if location is None or not (location.env or location.default):
        raise ValueError(f"{ref.name}: the inventory gives no location to read it from")
    base = Path(data_dir or os.environ.get(DATA_DIR_ENV) or DEFAULT_DATA_DIR)
    if location.env and os.environ.get(location.env):
        value = os.environ[location.env]
        escape = env_location_escape(value, base)
        if escape:
            raise ValueError(f"{ref.name}: ${location.env} {escape}")
        return value
    if not location.default:
        raise ValueError(f"{ref.name}: environment variable {location.env} is not set and the inventory gives no default")
    default = location.default
    if "://" in default or Path(default).is_absolute():
        return default
    return str(base / default)
