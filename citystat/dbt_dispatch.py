"""dbt's ``adapter.dispatch`` for the project's macros rendered outside dbt with plain Jinja (the open-data scrubber,
the SQL-injection tests): they run on DuckDB, so a macro resolves as dbt resolves it there."""
from __future__ import annotations


class DuckDBDispatch:
    """Set as the Jinja global ``adapter``; point ``module`` at the rendered macros' module once it exists."""

    def __init__(self):
        self.module = None

    def dispatch(self, name, package=None):
        return getattr(self.module, f"duckdb__{name}", None) or getattr(self.module, f"default__{name}")
