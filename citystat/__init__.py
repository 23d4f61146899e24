"""CityStat's core: the domain logic of the warehouse (inventory-driven ingestion, quality rules, KPI engine,
contracts, budget, publish, dashboards), importable and testable without Dagster. `orchestration/` wires it."""
