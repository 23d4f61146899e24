"""Quality rules and their evaluation, free of Dagster: GX suites on landed batches and marts, reconciliation,
schema drift, missing exports, freshness and the per-dataset quality score. `orchestration/defs/quality` wires
them as asset checks."""
