"""Load dagster-dbt without importing dbt-core into the code location.

dbt always runs as its own process (`dbt build`, `dbt parse`); the code location only reads the manifest. Yet
dagster-dbt imports dbt-core's Python packages at import time when they are installed (about 1.7 s of the
definitions' load time, measured with ``python -X importtime``). When dbt-core is not importable, dagster-dbt
falls back to its own definitions of the few dbt types it needs (its dbt Fusion path) and drives the dbt
executable the same way, so we hide dbt-core while dagster-dbt is first imported. Only the optional
in-process adapter features (row counts, column metadata fetched by Dagster) need dbt-core; CityStat uses none.
"""
from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager


class _HideDbtCore:
    def find_spec(self, name, path=None, target=None):
        if name == "dbt" or name.startswith("dbt."):
            raise ImportError(f"{name}: dbt-core is not loaded into the Dagster code location (dbt runs as a process)")
        return None


@contextmanager
def dbt_core_hidden() -> Iterator[None]:
    if "dagster_dbt" in sys.modules or "dbt" in sys.modules:  # already decided in this process
        yield
        return
    finder = _HideDbtCore()
    sys.meta_path.insert(0, finder)
    try:
        yield
    finally:
        sys.meta_path.remove(finder)
