"""SQL functions dbt's DuckDB connection gets from Python (a dbt-duckdb plugin named in dbt_project/profiles.yml).

``redact_names(text)``: citystat.personal_names.redact_names, vectorised over Arrow batches; the
``redact_contact_details`` macro calls it on every free-text field the inventory marks sensitive.
"""
from __future__ import annotations

import pyarrow as pa
from dbt.adapters.duckdb.plugins import BasePlugin

from citystat.personal_names import redact_names


def _redact_names(texts: pa.Array) -> pa.Array:
    return pa.array([redact_names(text) for text in texts.to_pylist()], type=pa.string())


def register(con) -> None:
    """Add the functions to a DuckDB connection (dbt's, or a test's)."""
    con.create_function("redact_names", _redact_names, ["VARCHAR"], "VARCHAR", type="arrow", side_effects=False)


class Plugin(BasePlugin):
    def configure_connection(self, conn) -> None:
        register(conn)
