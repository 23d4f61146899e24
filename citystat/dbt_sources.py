"""The dbt sources, generated from the data inventory: one ``models/staging/<system>/_<system>__sources.yml``
per system whose datasets CityStat lands (written by ``citystat generate``; ``--check`` fails while one is stale).

The inventory is the one list of what every system holds; the dbt sources repeat it so that
* each source table reads its landing batches (dbt-duckdb ``external_location`` over the Parquet files),
* every declared field is documented and carries its inventory definition in ``meta`` (type, required,
  sensitivity, allowed values, range): the staging models drop the fields marked ``pii`` and derive
  their row-level quarantine rules from the rest (macros/landing.sql, macros/inventory_rules.sql).
"""
from __future__ import annotations

from pathlib import Path

import yaml

from citystat.settings import dbt_project_dir
from citystat.warehouse import jinja_inert
from data_inventory import DatasetRef, load_inventory

HEADER = "# Generated from data_inventory/inventory.yaml by `citystat generate`. Do not edit.\n"
# Relative to the dbt project folder when the variable is unset (orchestration always sets it, absolute).
EXTERNAL_LOCATION = (
    "read_parquet('{{{{ env_var(\"CITYSTAT_LANDING_DIR\", \"../warehouse/landing\") }}}}/{system}/{{name}}/*.parquet', "
    "union_by_name=true, filename=true)"
)
LANDING_COLUMNS = [
    ("_load_id", "Landing batch that brought the row (one immutable Parquet batch per load)."),
    ("_extracted_at", "When the batch was extracted from the source (UTC, ISO 8601)."),
    ("_source_cursor", "The source's cursor value of the row (incremental extractions), else empty."),
    ("_source_file", "The dropped file the row came from (file drops), else empty."),
    ("_row_number", "Position of the row in its source file (file drops) or in its batch."),
]


def _contact(contact) -> str:
    return f"{contact.name} <{contact.email}>"


def _field_meta(field) -> dict:
    meta = {"type": field.type, "required": field.required, "sensitivity": field.sensitivity}
    for key in ("allowed_values", "minimum", "maximum", "pattern"):
        value = getattr(field, key)
        if value is not None:
            meta[key] = list(value) if key == "allowed_values" else value
    if field.format:
        meta["format"] = field.value_format()  # how the source writes values, for staging macros
    return meta


def _implements(ref: DatasetRef) -> dict:
    """What the generated staging of an entity needs (macros/entities.sql): each canonical column with the field
    it is read from, that field's declared type and format, and the contract's rules."""
    from data_inventory.entities import load_entities

    entity = load_entities()[ref.dataset.implements["entity"]]
    mapping = ref.dataset.implements.get("columns") or {}
    fields = {f.name: f for f in ref.dataset.fields}
    columns = []
    for column in entity.columns:
        spec = {"name": column.name, "type": column.type, "sql_type": column.sql_type}
        field = fields.get(mapping.get(column.name))
        if field is not None:
            spec.update(field=field.name, field_type=field.type)
            if field.format:
                spec["format"] = field.value_format()
        for key in ("required", "redact", "upper"):
            if getattr(column, key):
                spec[key] = True
        if column.allowed_values:
            spec["allowed_values"] = list(column.allowed_values)
        if column.fallback:
            spec["fallback"] = list(column.fallback)
        for key in ("not_before", "agrees_with", "required_when"):
            if getattr(column, key):
                spec[key] = getattr(column, key)
        if column.references and column.name in (ref.dataset.implements.get("references") or {}):
            spec["prefix"] = ref.dataset.implements["references"][column.name] + ":"  # that system's key prefix
        if column.default == "department":
            spec["default"] = ref.department.id
        columns.append(spec)
    return {"entity": entity.id, "key": entity.key, "version": entity.version, "columns": columns}


def _table(ref: DatasetRef) -> dict:
    ds = ref.dataset
    columns = [
        {
            "name": field.name,
            "description": field.description or f"{field.name} as exported by the source ({field.type}).",
            "meta": _field_meta(field),
        }
        for field in ds.fields
    ]
    columns += [{"name": name, "description": text, "meta": {"landing": True}} for name, text in LANDING_COLUMNS]
    return {
        "name": ds.id,
        "description": f"{ds.title}. {ds.description}".strip(),
        "meta": {
            "connector": ds.connector,
            "source_object": ds.source_object,
            "primary_key": list(ds.primary_key),
            "cursor_field": ds.cursor_field,
            "cadence": ds.cadence,
            "freshness_hours": ds.freshness_hours,
            "access_level": ds.access_level,
            "owner": _contact(ds.owner),
            "steward": _contact(ds.steward),
            "pii_fields": [f.name for f in ds.fields if f.sensitivity == "pii"],
            **({"implements": _implements(ref)} if ds.implements and ds.implements.get("columns") else {}),
        },
        "columns": columns,
    }


def sources_by_system() -> dict[str, dict]:
    """{system id: the YAML document of its sources}, for every system with a landed dataset."""
    documents: dict[str, dict] = {}
    for ref in load_inventory().datasets():
        if not ref.dataset.ingested:
            continue
        system = ref.system
        doc = documents.setdefault(system.id, {
            "version": 2,
            "sources": [{
                "name": system.id,
                "description": f"{system.name} ({ref.department.name}): raw landing batches."
                + (f" {system.description}" if system.description else ""),
                "meta": {
                    "department_code": ref.department.id,
                    "system_kind": system.kind,
                    "external_location": EXTERNAL_LOCATION.format(system=system.id),
                },
                "tables": [],
            }],
        })
        doc["sources"][0]["tables"].append(_table(ref))
    return documents


def _inert(value, key=None):
    """Every inventory text in the document, made inert to dbt's Jinja rendering of YAML properties (an allowed
    value or a description holding ``{{ env_var('SECRET') }}`` stays that text); the generated
    ``external_location`` is the one intended template."""
    if isinstance(value, dict):
        return {k: (v if k == "external_location" else _inert(v, k)) for k, v in value.items()}
    if isinstance(value, list):
        return [_inert(v) for v in value]
    return jinja_inert(value)


def render(document: dict) -> str:
    return HEADER + yaml.safe_dump(_inert(document), sort_keys=False, allow_unicode=True, width=120)


def staging_dir() -> Path:
    """Where the sources are written: the dbt project of the active inventory (citystat.settings.dbt_project_dir)."""
    return dbt_project_dir() / "models" / "staging"


def source_files() -> dict[Path, str]:
    """{sources file: its text} for every system with a landed dataset."""
    return {staging_dir() / system_id / f"_{system_id}__sources.yml": render(document)
            for system_id, document in sources_by_system().items()}
