"""Render the project's dbt macros outside dbt (plain Jinja with dbt's `do`, `return`, `var`, `exceptions` and
`env_var`, `adapter.dispatch` on DuckDB), fast enough to feed hundreds of hostile strings through them and run the SQL in DuckDB."""
from __future__ import annotations

from pathlib import Path

import jinja2
import jinja2.runtime

from citystat.dbt_dispatch import DuckDBDispatch

MACROS = Path(__file__).resolve().parents[2] / "dbt_project" / "macros"
MACRO_FILES = ("sql_text.sql", "warehouse_sql.sql", "casting.sql", "quarantine.sql", "redaction.sql")


class _Return(Exception):
    def __init__(self, value):
        self.value = value


def _return(value):
    raise _Return(value)


_original_invoke = jinja2.runtime.Macro._invoke


def _invoke(self, arguments, autoescape):  # dbt's `{{ return(x) }}`: the macro call evaluates to x
    try:
        return _original_invoke(self, arguments, autoescape)
    except _Return as r:
        return r.value


jinja2.runtime.Macro._invoke = _invoke


class CompilerError(Exception):
    pass


class _Exceptions:
    @staticmethod
    def raise_compiler_error(message):
        raise CompilerError(message)


def macros(texts: dict[str, str] | None = None, variables: dict | None = None, environment: dict | None = None):
    """The module of every macro in MACRO_FILES (`texts` overrides a file's text, e.g. an older version);
    `environment` is what dbt's `env_var` sees (nothing from this process's environment)."""
    texts = texts or {}
    source = "\n".join(texts.get(name) or (MACROS / name).read_text(encoding="utf-8") for name in MACRO_FILES)
    env = jinja2.Environment(extensions=["jinja2.ext.do"], undefined=jinja2.StrictUndefined)
    variables = {"city_timezone": "America/Chicago", **(variables or {})}
    adapter = DuckDBDispatch()
    env.globals.update({
        "adapter": adapter,
        "target": {"type": "duckdb", "schema": "main"},
        "return": _return,
        "var": lambda name, default=None: variables.get(name, default),
        "env_var": lambda name, default=None: (environment or {}).get(name, default),
        "exceptions": _Exceptions,
        "ref": lambda name: f'"{name}"',
    })
    adapter.module = env.from_string(source).module
    return adapter.module
