"""The performance office's workbench database (``performance_office/workbench.sqlite3``): made by the workbench's own
migrations, then seeded with one month of a liaison's work on a Public Works indicator: a flag raised by hand, the
commitment on it, its follow-up at the next meeting and two lines of commentary. The pipeline reads it like any
departmental database (inventory system ``perf_workbench``), so the demo city's memo, briefing and pages show
commitments; and a city without the file would fail that source's ingestion.

Deterministic: every value comes from the as-of date. The accounts that "wrote" the rows are names only; the demo
makes no sign-in accounts (``citystat workbench create-user`` does).
"""
from __future__ import annotations

import datetime as dt
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

from demo_city.clock import CITY_TZ
from demo_city.core import GenContext

SYSTEM = "perf_workbench"
DB = ("performance_office", "workbench.sqlite3")  # the inventory's default location, under the data folder
KPI, DEPARTMENT = "pw_potholes_within_sla_pct", "pw"
OFFICE, LIAISON = "lgoldberg", "dokafor"


def _month(day: dt.date) -> str:
    return f"{day.year:04d}-{day.month:02d}"


def _memo_month(as_of: dt.date) -> dt.date:
    """First day of the latest month closed on the as-of date (as citystat.kpi.metrics_tables.memo_month_for)."""
    closed = as_of if (as_of + dt.timedelta(days=1)).day == 1 else as_of.replace(day=1) - dt.timedelta(days=1)
    return closed.replace(day=1)


def _migrate(path: Path) -> None:
    """The workbench's own Django migrations, in a child process (Django settings read the database path once)."""
    env = {**os.environ, "CITYSTAT_WORKBENCH_DB": str(path)}
    subprocess.run([sys.executable, "-c", "from workbench.cli import migrate_database; migrate_database()"],
                   env=env, check=True, capture_output=True, text=True, timeout=300)


def records(as_of: dt.date) -> tuple[list[dict], list[dict]]:
    """The seeded flag actions and commentary (also read by tests); times are the city's wall clock."""
    memo_month = _memo_month(as_of)
    flagged = (memo_month - dt.timedelta(days=1)).replace(day=1)  # the month the last stat meeting discussed
    period = _month(flagged)
    meeting = min(memo_month + dt.timedelta(days=7), as_of)
    follow_up = min(meeting + dt.timedelta(days=21), as_of)
    at = lambda day, hour, minute: dt.datetime.combine(day, dt.time(hour, minute))  # noqa: E731
    flag = f"{KPI}:{period}:manual"
    base = {"flag_id": flag, "kpi_id": KPI, "period": period, "department_code": DEPARTMENT, "owner": "",
            "action": "", "due_date": None, "follow_up": "", "escalated_to": "", "reason": ""}
    actions = [
        {**base, "kind": "raise", "status": "open", "actor": OFFICE, "acted_at": at(meeting, 9, 30),
         "reason": "a four-point slip before the winter freeze matters more than the threshold says"},
        {**base, "kind": "commit", "status": "acknowledged", "actor": LIAISON, "acted_at": at(meeting, 10, 15),
         "owner": "Daniel Okafor, Director of Public Works", "due_date": follow_up.isoformat(),
         "action": "two pothole crews on Saturday overtime until the open backlog is under 200"},
        {**base, "kind": "follow_up", "status": "acknowledged", "actor": LIAISON, "acted_at": at(follow_up, 9, 0),
         "follow_up": "slipped", "reason": "one crew started; the second waits for a truck back from the shop"},
    ]
    commentary = [
        {"kpi_id": KPI, "department_code": DEPARTMENT, "period": _month(memo_month), "author": LIAISON,
         "comment": "Storm week closed two crews for four days", "written_at": at(as_of, 8, 0)},
        {"kpi_id": "pw_streetlights_within_sla_pct", "department_code": DEPARTMENT, "period": period,
         "author": LIAISON, "comment": "Vendor parts backorder cleared mid-month", "written_at": at(meeting, 10, 25)},
    ]
    return actions, commentary


def _utc(moment: dt.datetime) -> str:
    """A city wall-clock time as the workbench stores it: UTC, 'YYYY-MM-DD HH:MM:SS' (Django with USE_TZ)."""
    return moment.replace(tzinfo=CITY_TZ).astimezone(dt.timezone.utc).strftime("%Y-%m-%d %H:%M:%S")


def _insert(conn: sqlite3.Connection, table: str, rows: list[dict]) -> None:
    for row in rows:
        values = {k: (_utc(v) if isinstance(v, dt.datetime) else v) for k, v in row.items()}
        conn.execute(f"INSERT INTO {table} ({', '.join(values)}) VALUES ({', '.join('?' * len(values))})",
                     list(values.values()))


def generate(ctx: GenContext) -> None:
    path = ctx.path(*DB)
    _migrate(path)
    actions, commentary = records(ctx.as_of)
    with sqlite3.connect(path) as conn:
        # migrations stamp the wall clock; the as-of date keeps a generation a pure function of its parameters
        conn.execute("UPDATE django_migrations SET applied = ?", [f"{ctx.as_of.isoformat()} 00:00:00"])
        _insert(conn, "workbench_flagaction", actions)
        _insert(conn, "workbench_commentary", commentary)
    conn.close()
    ctx.count(f"{SYSTEM}.flag_actions", len(actions))
    ctx.count(f"{SYSTEM}.commentary", len(commentary))


def advance(ctx: GenContext, first: dt.date, last: dt.date) -> None:
    """People write in the workbench, not the simulator: advancing adds nothing (the database is kept)."""
    if not ctx.path(*DB).exists():
        generate(ctx)
