"""SQL functions dbt's DuckDB connection gets from Python (a dbt-duckdb plugin named in dbt_project/profiles.yml).

``redact_names(text)`` (citystat.personal_names): the ``redact_contact_details`` macro calls it on every free-text
field the inventory marks sensitive.
"""
from __future__ import annotations

from dbt.adapters.duckdb.plugins import BasePlugin

from citystat.personal_names import register


class Plugin(BasePlugin):
    def configure_connection(self, conn) -> None:
        register(conn)
