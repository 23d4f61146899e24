"""CityStat's Dagster code location, connectors and command-line tool."""
