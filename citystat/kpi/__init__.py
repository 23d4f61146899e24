"""The performance-metrics layer: KPI registry, status engine, flags, goal pacing, CityScore and the monthly memo.

Pure logic over DataFrames and DuckDB connections, so Dagster assets and the `citystat kpi` / `citystat flags`
commands run the same rules. The rules themselves are written down in docs/kpi_rules.md.
"""
