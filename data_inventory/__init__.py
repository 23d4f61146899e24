"""The citywide data inventory: what every department's systems hold (inventory.yaml + its schema)."""
