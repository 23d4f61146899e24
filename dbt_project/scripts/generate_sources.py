"""Write the dbt sources from the data inventory: one ``models/staging/<system>/_<system>__sources.yml``
per system whose datasets CityStat lands.

The inventory is the one list of what every system holds; the dbt sources repeat it so that
* each source table reads its landing batches (dbt-duckdb ``external_location`` over the Parquet files),
* every declared field is documented and carries its inventory definition in ``meta`` (type, required,
  sensitivity, allowed values, range): the staging models drop the fields marked ``pii`` and derive
  their row-level quarantine rules from the rest (macros/landing.sql, macros/inventory_rules.sql).

    python dbt_project/scripts/generate_sources.py           # rewrite the files
    python dbt_project/scripts/generate_sources.py --check   # exit 1 if a file is out of date (CI, tests)
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import yaml

from data_inventory import DatasetRef, load_inventory

DBT_PROJECT = Path(__file__).resolve().parent.parent
STAGING = DBT_PROJECT / "models" / "staging"
HEADER = "# Generated from data_inventory/inventory.yaml by dbt_project/scripts/generate_sources.py. Do not edit.\n"
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
    return meta


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


def render(document: dict) -> str:
    return HEADER + yaml.safe_dump(document, sort_keys=False, allow_unicode=True, width=120)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="only report files that are out of date")
    args = parser.parse_args(argv)
    stale = []
    for system_id, document in sources_by_system().items():
        path = STAGING / system_id / f"_{system_id}__sources.yml"
        text = render(document)
        if path.exists() and path.read_text(encoding="utf-8") == text:
            continue
        stale.append(path)
        if not args.check:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
    for path in stale:
        print(f"{'out of date' if args.check else 'wrote'}: {path.relative_to(DBT_PROJECT)}")
    return 1 if (args.check and stale) else 0


if __name__ == "__main__":
    sys.exit(main())
