"""The dbt sources are generated from the data inventory (`citystat generate`) and declare its pii fields."""
from __future__ import annotations


from orchestration.lib.dbt_project import DBT_PROJECT_DIR


# Sources up to date with the inventory: tests/test_generated_files.py (`citystat generate --check`).


def test_every_inventoried_pii_field_is_declared_pii_in_the_sources():
    import yaml

    from data_inventory import load_inventory

    declared = set()
    for path in (DBT_PROJECT_DIR / "models" / "staging").glob("*/_*__sources.yml"):
        for source in yaml.safe_load(path.read_text())["sources"]:
            for table in source["tables"]:
                declared |= {(source["name"], table["name"], c["name"]) for c in table["columns"]
                             if c.get("meta", {}).get("sensitivity") == "pii"}
    expected = {(ref.system.id, ref.dataset.id, f.name) for ref in load_inventory().datasets()
                if ref.dataset.ingested for f in ref.dataset.fields if f.sensitivity == "pii"}
    assert expected and declared == expected
