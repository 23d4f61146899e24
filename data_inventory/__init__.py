"""The citywide data inventory: what every department's systems hold (inventory.yaml + its schema).

    from data_inventory import load_inventory
    inventory = load_inventory()                 # validated; raises InventoryError listing every problem
    for ref in inventory.datasets():             # DatasetRef(department, system, dataset), .key, .pii_fields
        where = inventory.resolve_location(ref, data_dir)
"""
from data_inventory.loader import DEFAULT_PATH, INVENTORY_ENV, SCHEMA_PATH, inventory_path, load_inventory, validate
from data_inventory.model import (
    City,
    Contact,
    Dataset,
    DatasetRef,
    Department,
    Field,
    Inventory,
    Location,
    Publication,
    System,
    resolve_location,
)
from data_inventory.problems import InventoryError, Problem

__all__ = [
    "DEFAULT_PATH", "INVENTORY_ENV", "SCHEMA_PATH", "City", "Contact", "Dataset", "DatasetRef", "Department",
    "Field", "Inventory", "InventoryError", "Location", "Problem", "Publication", "System",
    "inventory_path", "load_inventory", "resolve_location", "validate",
]  # fmt: skip
