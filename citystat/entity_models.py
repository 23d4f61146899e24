"""The dbt models generated from the inventory's entity declarations (data_inventory/entities.yaml), written by
``citystat generate``:

* for every dataset with ``implements: {entity, columns}``: ``models/staging/<system>/base_``, ``quarantine_`` and
  ``stg_<system>__<dataset>.sql``, each one line calling macros/entities.sql (the mapping itself travels in the
  dbt source's meta);
* for every entity: its union model (``models/intermediate/entities/int_service_requests.sql``), the contract's
  columns from every dataset that implements it (generated or hand-written ``staging_model``), which the fact reads.
  An entity nobody implements still gets its union, empty, so the fact builds.
"""
from __future__ import annotations

import json
from pathlib import Path

import yaml

from citystat.warehouse import jinja_inert
from data_inventory import load_inventory
from data_inventory.entities import load_entities

YAML_HEADER = "# Generated from the data inventory by `citystat generate`. Do not edit: change the inventory's `implements`.\n"
HEADER = "-- Generated from the data inventory by `citystat generate`. Do not edit: change the inventory's `implements`.\n"
# the landing columns every union model carries, with their SQL types
LANDING_COLUMNS = {"_load_id": "varchar", "_source_file": "varchar", "_row_number": "bigint", "_extracted_at": "timestamp"}
# the landing and rule columns each generated model carries besides the entity's (macros/landing.sql, quarantine.sql)
_STAGED = ("_load_id", "_extracted_at", "_source_cursor", "_source_file", "_row_number")
_RULES = ("_quarantine_rule", "_quarantine_reason")
MODEL_EXTRA_COLUMNS = {
    "base": (*_STAGED, "_landing_file", "_row_hash", *_RULES, "_is_duplicate_copy"),
    "quarantine": (*_STAGED, "_landing_file", *_RULES),
    "stg": _STAGED,
}


def _column_docs(entity, extra: tuple[str, ...]) -> list[dict]:
    columns = [{"name": c.name, "description": c.description} for c in entity.columns]
    return columns + [{"name": name, "description": "{{ doc('col" + name + "') }}"} for name in extra]


def _docs(ref, entity) -> str:
    """The three generated models of one dataset, documented (every model and column has a description)."""
    name = f"{ref.system.id}__{ref.dataset.id}"
    title = jinja_inert(ref.dataset.title)
    what = {
        "base": f"{title} ({ref.name}) in the columns of the canonical {entity.title}, generated from the inventory's "
                "`implements` mapping: typed with each field's declared format, deduplicated to the latest version, "
                "rule failures flagged.",
        "quarantine": f"{title} ({ref.name}): rows set aside with the rule they break and why.",
        "stg": f"{title} ({ref.name}) as the canonical {entity.title}: the rows no rule quarantined.",
    }
    models = [{"name": f"{kind}_{name}", "description": text, "columns": _column_docs(entity, MODEL_EXTRA_COLUMNS[kind])}
              for kind, text in what.items()]
    return YAML_HEADER + yaml.safe_dump({"version": 2, "models": models}, sort_keys=False, width=120)


def _union_docs(entity) -> str:
    columns = [{"name": "source_system", "description": "The inventory system the row came from."}]
    columns += _column_docs(entity, tuple(LANDING_COLUMNS))
    model = {"name": entity.union_model, "description": f"Every {entity.title} of the city from every system that "
             f"implements the entity (data_inventory/entities.yaml), in its canonical columns: what {entity.fact} reads.",
             "columns": columns}
    return YAML_HEADER + yaml.safe_dump({"version": 2, "models": [model]}, sort_keys=False, width=120)


def _staging(system: str, dataset: str, entity) -> dict[str, str]:
    name = f"{system}__{dataset}"
    future = ", ".join(f"rule_not_future('{c.name}')" for c in entity.columns if c.not_future)
    return {
        f"base_{name}.sql": HEADER + "{{ config(materialized='table', tags=['daily']) }}\n\n"
        f"{{{{ entity_base('{system}', '{dataset}') }}}}\n",
        f"quarantine_{name}.sql": HEADER + "{{ config(schema='quality', materialized='table', tags=['daily']) }}\n\n"
        f"{{{{ quarantine_rows('base_{name}', [{future}]) }}}}\n",
        f"stg_{name}.sql": HEADER + "{{ config(tags=['daily']) }}\n\n"
        f"{{{{ passing_rows('base_{name}', 'quarantine_{name}') }}}}\n",
    }


def _union(entity, members: list[tuple[str, str]]) -> str:
    """The entity's columns from every staging model that implements it (`members`: (system, model)), through the
    portable entity_union macro (macros/entities.sql)."""
    columns = [(c.name, c.sql_type) for c in entity.columns] + list(LANDING_COLUMNS.items())
    column_lines = ",\n".join(f"        ({json.dumps(name)}, {json.dumps(sql_type)})" for name, sql_type in columns)
    member_lines = ",\n".join(f"        ({json.dumps(system)}, ref({json.dumps(model)}))" for system, model in members)
    return "\n".join([
        HEADER, f"-- Every {entity.title} of the city, whatever system it came from: the rows {entity.fact} reads.",
        "{{ config(tags=['daily']) }}", "",
        "{{ entity_union(", "    columns=[", column_lines, "    ],", "    members=[" + ("" if members else "]"),
        *([member_lines, "    ]"] if members else []), ") }}", ""])


def model_files(project_dir: Path) -> dict[Path, str]:
    """{model file: its text} for every entity declaration of the active inventory."""
    entities = load_entities()
    members: dict[str, list[tuple[str, str]]] = {entity_id: [] for entity_id in entities}
    files: dict[Path, str] = {}
    for ref in load_inventory().datasets():
        implements = ref.dataset.implements
        if not implements or not ref.dataset.ingested:
            continue
        system, dataset = ref.system.id, ref.dataset.id
        if implements.get("columns"):
            entity = entities[implements["entity"]]
            for name, text in _staging(system, dataset, entity).items():
                files[project_dir / "models" / "staging" / system / name] = text
            files[project_dir / "models" / "staging" / system / f"_{system}__{dataset}__generated.yml"] = _docs(ref, entity)
            members[implements["entity"]].append((system, f"stg_{system}__{dataset}"))
        else:
            members[implements["entity"]].append((system, implements["staging_model"]))
    for entity_id, entity in entities.items():
        folder = project_dir / "models" / "intermediate" / "entities"
        files[folder / f"{entity.union_model}.sql"] = _union(entity, members[entity_id])
        files[folder / f"{entity.union_model}.yml"] = _union_docs(entity)
    return files


def generated_models(project_dir: Path) -> list[Path]:
    """Model files a previous `citystat generate` wrote (to find those no longer produced)."""
    return [p for p in (project_dir / "models").rglob("*") if p.suffix in (".sql", ".yml")
            and p.read_text(encoding="utf-8").startswith((HEADER, YAML_HEADER))]
