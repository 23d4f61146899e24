"""What the workbench reads from the published snapshot (read-only, never the pipeline's working warehouse) and
from the KPI registry."""
from __future__ import annotations

import functools

import duckdb

from citystat.kpi.registry import Registry, load_registry
from citystat.warehouse import has_table, snapshot_path


@functools.cache
def registry() -> Registry:
    return load_registry()


def department_of_kpi(kpi_id: str) -> str | None:
    kpi = registry().kpis.get(kpi_id)
    return kpi.department_code if kpi else None


def _rows(sql: str, params: list) -> list[dict]:
    path = snapshot_path()
    if not path.exists():
        return []
    con = duckdb.connect(str(path), read_only=True)
    try:
        if not has_table(con, "metrics.flags"):
            return []
        cursor = con.execute(sql, params)
        names = [d[0] for d in cursor.description]
        return [dict(zip(names, row)) for row in cursor.fetchall()]
    finally:
        con.close()


# Flags raised by hand are the workbench's own (it holds their every step); the snapshot's copy is left out.
_FLAG_SQL = """SELECT flag_id, kpi_id, kpi_name, department_code, period, kind, critical, value, target, message,
                      status, days_open FROM (SELECT * FROM metrics.flags WHERE kind <> 'manual')"""


def flags(department_code: str | None = None) -> list[dict]:
    """The automated flags not resolved, newest period first; one department's when given."""
    where, params = "WHERE status NOT IN ('resolved', 'condition cleared')", []
    if department_code is not None:
        where += " AND department_code = ?"
        params.append(department_code)
    return _rows(f"{_FLAG_SQL} {where} ORDER BY period DESC, critical DESC, flag_id", params)


def flag(flag_id: str) -> dict | None:
    found = _rows(f"{_FLAG_SQL} WHERE flag_id = ?", [flag_id])
    return found[0] if found else None
