"""The performance office's workbench: a signed-in Django app where flags become commitments, departments submit the
KPI values no system holds, and staff write a line of context per KPI and month.

It keeps its own SQLite database (``citystat.settings.workbench_db_path``), which the inventory lists as the
``perf_workbench`` system: the pipeline ingests it like any department's database. Nothing in ``citystat`` or
``orchestration`` imports this package.
"""
