"""Persisted flags and their action log, in the warehouse (``metrics.flags``, ``metrics.flag_actions``).

A flag is identified by (kpi, period, kind), so its id is stable: rerunning the engine updates the flag instead
of adding another, and a flag whose condition disappears after a data revision is kept (marked
``condition_present = false``), never deleted. The action log is append-only: who, when, what, and the status it
left the flag in (open / acknowledged / escalated / resolved); a flag's ``status`` is that of its latest action.
When the indicator recovers in a later period the engine appends a ``resolved`` action itself, once.
The office edits actions through a CSV (export, add rows, import); importing the same file twice adds nothing.
"""
from __future__ import annotations

import calendar
import csv
import datetime as dt
import hashlib
import math
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import pandas as pd

from citystat.kpi.periods import parse_period
from citystat.kpi.problems import Problem, ValidationError, where
from citystat.kpi.status import SAME_PERIOD_LAST_YEAR
from citystat.warehouse import execute, fetch, read, transaction

STATUSES = ("open", "acknowledged", "escalated", "resolved", "condition cleared")
# an open flag nobody acted on is escalated by the engine once it has been open this long (two monthly meetings)
ESCALATE_AFTER_DAYS = 60
KINDS = ("red", "worsened", "moved")
MANUAL = "manual"  # the kind of a flag raised by hand in the workbench: '<kpi_id>:<period>:manual'
SOURCES = ("engine", "cli", "csv", "workbench")
SYSTEM_ACTOR = "citystat"
ACTION_CSV_COLUMNS = ["flag_id", "kpi_id", "period", "kind", "acted_at", "actor", "action", "status", "source"]
ACTION_CSV_REQUIRED = ["flag_id", "acted_at", "actor", "action", "status"]

_SCHEMA = """
CREATE SCHEMA IF NOT EXISTS metrics;
CREATE SEQUENCE IF NOT EXISTS metrics.flag_action_seq;
CREATE TABLE IF NOT EXISTS metrics.flags (
    flag_id VARCHAR PRIMARY KEY,          -- '<kpi_id>:<period>:<kind>'
    kpi_id VARCHAR NOT NULL,
    kpi_name VARCHAR,
    department_code VARCHAR,
    period VARCHAR NOT NULL,
    kind VARCHAR NOT NULL,                -- red | worsened | moved
    critical BOOLEAN NOT NULL,
    value DOUBLE PRECISION,
    baseline_period VARCHAR,              -- the period compared with (swings)
    baseline_value DOUBLE PRECISION,
    target DOUBLE PRECISION,
    relative_change DOUBLE PRECISION,
    threshold DOUBLE PRECISION,
    rag_status VARCHAR,
    message VARCHAR NOT NULL,
    status VARCHAR NOT NULL,              -- of the latest action
    raised_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,        -- time of the latest action
    condition_present BOOLEAN NOT NULL,   -- does the latest evaluation still show the condition
    last_evaluated_at TIMESTAMP NOT NULL,
    recovered_period VARCHAR              -- first later period where the indicator recovered
);
ALTER TABLE metrics.flags ADD COLUMN IF NOT EXISTS comparison_basis VARCHAR;  -- previous period | same period last year
ALTER TABLE metrics.flags ADD COLUMN IF NOT EXISTS cleared_period VARCHAR;    -- condition cleared without recovery
ALTER TABLE metrics.flags ADD COLUMN IF NOT EXISTS opened_on DATE;            -- last day of the flagged period
ALTER TABLE metrics.flags ADD COLUMN IF NOT EXISTS closed_on DATE;            -- last day of the recovery/clearing period
ALTER TABLE metrics.flags ADD COLUMN IF NOT EXISTS days_open INTEGER;         -- opened_on to closed_on, or to the as-of date
ALTER TABLE metrics.flags ADD COLUMN IF NOT EXISTS commitment VARCHAR;         -- the latest commitment made in the workbench
ALTER TABLE metrics.flags ADD COLUMN IF NOT EXISTS commitment_owner VARCHAR;
ALTER TABLE metrics.flags ADD COLUMN IF NOT EXISTS commitment_due DATE;
ALTER TABLE metrics.flags ADD COLUMN IF NOT EXISTS follow_up VARCHAR;          -- done | slipped | not started, latest
CREATE TABLE IF NOT EXISTS metrics.flag_actions (
    action_id VARCHAR PRIMARY KEY,        -- hash of (flag_id, acted_at, actor, action, status)
    flag_id VARCHAR NOT NULL,
    acted_at TIMESTAMP NOT NULL,
    actor VARCHAR NOT NULL,
    action VARCHAR NOT NULL,
    status VARCHAR NOT NULL,
    source VARCHAR NOT NULL,              -- engine | cli | csv | workbench
    recorded_at TIMESTAMP NOT NULL,
    seq BIGINT NOT NULL                   -- order of recording, breaks ties between equal acted_at
);
"""

_FLAG_COLUMNS = ["flag_id", "kpi_id", "kpi_name", "department_code", "period", "kind", "critical", "value",
                 "baseline_period", "baseline_value", "target", "relative_change", "threshold", "rag_status", "message",
                 "comparison_basis"]


class FlagError(ValueError):
    """A flag command that cannot be applied (unknown flag, bad status, ...)."""


@dataclass
class SyncResult:
    raised: list[str] = field(default_factory=list)
    auto_resolved: list[str] = field(default_factory=list)
    cleared: list[str] = field(default_factory=list)
    escalated: list[str] = field(default_factory=list)
    updated: int = 0
    condition_gone: list[str] = field(default_factory=list)


def _now() -> dt.datetime:
    return dt.datetime.now().replace(microsecond=0)


def _blank(x) -> bool:
    return x is None or (isinstance(x, float) and math.isnan(x))


def _clean(x):
    return None if _blank(x) else x


def flag_id(kpi_id: str, period: str, kind: str) -> str:
    return f"{kpi_id}:{period}:{kind}"


def action_id(flag: str, acted_at: dt.datetime, actor: str, action: str, status: str) -> str:
    key = "\x1f".join([flag, acted_at.strftime("%Y-%m-%d %H:%M:%S"), actor, action, status])
    return hashlib.sha256(key.encode()).hexdigest()[:20]


def ensure_schema(con: duckdb.DuckDBPyConnection) -> None:
    """The schema, sequence and tables (SQL DuckDB and PostgreSQL both speak), one statement at a time."""
    for statement in _SCHEMA.split(";\n"):
        if statement.strip():
            execute(con, statement)


# ---- detection and recovery: pure functions over the status engine's output -------------------------------

def _pct(x: float | None) -> str:
    return "from zero" if x is None else f"{x:+.1%}"


def detect_flags(evaluated: pd.DataFrame) -> list[dict]:
    """Flags the status table calls for, one per onset (docs/kpi_rules.md, section 4):

    - 'red': the KPI turned red (the first red period after a period that was not red; a red spell is one flag).
      A red flag absorbs the move that took the KPI there: no 'worsened' flag for the same KPI and period;
    - 'worsened': a period-over-period move past the KPI's threshold the wrong way (also a further slide while the
      KPI stays red: a new event; when the swing is undone but the KPI is still red it is 'condition cleared');
    - 'moved': the same for a KPI with no desired direction, either way.
    The comparison is the status engine's (fiscal-year-to-date KPIs never compare across the July reset).
    Moves the right way stay visible in the status table (pop_flag) but ask nobody for action."""
    flags = []
    rows = sorted(evaluated.to_dict("records"), key=lambda r: (r["kpi_id"], parse_period(r["period"])))
    previous_status: dict[str, str] = {}
    for row in rows:
        base = {
            "kpi_id": row["kpi_id"], "kpi_name": row.get("name") or row["kpi_id"],
            "department_code": _clean(row.get("department_code")), "period": row["period"],
            "critical": bool(row.get("critical")), "value": _clean(row["value"]), "target": _clean(row["target"]),
            "threshold": row["flag_threshold"], "rag_status": row["status"],
            "baseline_period": None, "baseline_value": None, "relative_change": None,
            "comparison_basis": _clean(row.get("comparison_basis")),
        }
        if _blank(row["value"]):
            continue  # no data: neither starts nor ends a red spell
        moved = bool(row["pop_flag"]) and row["change_direction"] in ("worse", "up", "down")
        swing = {"baseline_period": row["previous_period"], "baseline_value": _clean(row["previous_value"]),
                 "relative_change": _clean(row["relative_change"])} if moved else {}
        if row["status"] == "red" and previous_status.get(row["kpi_id"]) != "red":
            message = f"{base['kpi_name']} turned red in {row['period']}: {row['status_reason']}"
            if moved:
                message += f" (moved {_pct(swing['relative_change'])} against {row['previous_period']})"
            flags.append({**base, **swing, "kind": "red", "message": message})
        red_onset = row["status"] == "red" and previous_status.get(row["kpi_id"]) != "red"
        previous_status[row["kpi_id"]] = row["status"]
        if moved and not red_onset:
            kind = "worsened" if row["change_direction"] == "worse" else "moved"
            against = row["previous_period"] + (" (same period last year)" if base["comparison_basis"] == SAME_PERIOD_LAST_YEAR else "")
            flags.append({
                **base, **swing, "kind": kind,
                "message": (f"{base['kpi_name']} {kind} {_pct(swing['relative_change'])} in {row['period']} against "
                            f"{against} (threshold {row['flag_threshold']:.0%})"),
            })
    for flag in flags:
        flag["flag_id"] = flag_id(flag["kpi_id"], flag["period"], flag["kind"])
    return flags


RESOLVED, CLEARED = "resolved", "condition cleared"


def _within(value: float, baseline: float, threshold: float, direction: str) -> bool:
    """Is ``value`` back within ``threshold`` of ``baseline`` (or better, for a directed KPI)?"""
    if direction in ("up", "down"):
        worse_by = baseline - value if direction == "up" else value - baseline
        return worse_by <= 0 or (baseline != 0 and worse_by / abs(baseline) < threshold)
    if value == baseline:
        return True
    return baseline != 0 and abs(value - baseline) / abs(baseline) < threshold


def recovery(flag: dict, row: dict) -> str | None:
    """What a later status row says about a flag: 'resolved', 'condition cleared' or None (still there).

    Resolved only when the KPI recovered on the rule that raised the flag:
    - red: the KPI is out of red (green or yellow);
    - worsened: the value is back within the threshold of the value before the swing, or better, and the KPI is not
      red (for a swing measured against the same period last year, the later period's own value a year earlier);
    - moved: back within the threshold of the value before the swing.
    Condition cleared (not resolved): a worsened KPI that meets its target again without undoing the swing, or that
    undid the swing but is red (its red flag carries on)."""
    value = _clean(row["value"])
    if value is None:
        return None
    if flag["kind"] == "red":
        return RESOLVED if row["status"] in ("green", "yellow") else None
    baseline, threshold = flag["baseline_value"], flag["threshold"]
    if flag.get("comparison_basis") == SAME_PERIOD_LAST_YEAR:
        baseline = _clean(row.get("last_year_value"))
    if baseline is None:
        return None
    back = _within(value, baseline, threshold, row["desired_direction"] if flag["kind"] == "worsened" else "none")
    if flag["kind"] == "moved":
        return RESOLVED if back else None
    if back:
        return RESOLVED if row["status"] != "red" else CLEARED
    return CLEARED if row["status"] == "green" else None


def recovered(flag: dict, row: dict) -> bool:
    """Has the indicator recovered (on the rule that raised the flag) in this later status row?"""
    return recovery(flag, row) == RESOLVED


def find_recovery(flag: dict, later_rows: list[dict]) -> str | None:
    """The first later period (rows in period order) in which the indicator recovered, if any."""
    for row in later_rows:
        if recovered(flag, row):
            return row["period"]
    return None


def find_clearing(flag: dict, later_rows: list[dict]) -> str | None:
    """The first later period in which the flag's condition cleared without the KPI recovering, if any."""
    for row in later_rows:
        outcome = recovery(flag, row)
        if outcome == RESOLVED:
            return None
        if outcome == CLEARED:
            return row["period"]
    return None


def period_end(period: str) -> dt.date:
    """Last day of a period (month, fiscal year or day): when its data could first show a condition."""
    p = parse_period(period)
    if p.grain == "day":
        return p.start
    if p.grain == "fiscal_year":
        return dt.date(p.start.year + 1, 6, 30)
    return p.start.replace(day=calendar.monthrange(p.start.year, p.start.month)[1])


def days_open(period: str, as_of: dt.date, closed_period: str | None = None) -> int:
    """Days from the end of the flagged period to the end of the period that closed it (recovered or cleared), or
    to ``as_of`` while it is open; never negative."""
    end = period_end(closed_period) if closed_period else as_of
    return max((end - period_end(period)).days, 0)


# ---- persistence ---------------------------------------------------------------------------------------------

def _insert_action(con, flag: str, acted_at: dt.datetime, actor: str, action: str, status: str, source: str) -> bool:
    """Append one action unless the identical action is already logged; True when it was new."""
    acted_at = acted_at.replace(microsecond=0)
    ident = action_id(flag, acted_at, actor, action, status)
    if fetch(con, "SELECT 1 FROM metrics.flag_actions WHERE action_id = :ident", {"ident": ident}):
        return False
    execute(con, """INSERT INTO metrics.flag_actions (action_id, flag_id, acted_at, actor, action, status, source,
                                                      recorded_at, seq)
                    VALUES (:ident, :flag, :acted_at, :actor, :action, :status, :source, :recorded_at,
                            nextval('metrics.flag_action_seq'))""",
            {"ident": ident, "flag": flag, "acted_at": acted_at, "actor": actor, "action": action, "status": status,
             "source": source, "recorded_at": dt.datetime.now()})
    return True


def _refresh_status(con, flag_ids: list[str] | None = None) -> None:
    """flags.status/updated_at = the latest action (by acted_at, then the order recorded)."""
    if flag_ids is not None and not flag_ids:
        return
    params = {f"flag_{i}": flag for i, flag in enumerate(flag_ids or [])}
    where_clause = "" if flag_ids is None else f"AND f.flag_id IN ({', '.join(':' + name for name in params)})"
    execute(con, f"""
        UPDATE metrics.flags f SET status = latest.status, updated_at = latest.acted_at
        FROM (
            SELECT flag_id, status, acted_at FROM (
                SELECT flag_id, status, acted_at,
                       row_number() OVER (PARTITION BY flag_id ORDER BY acted_at DESC, seq DESC) AS rn
                FROM metrics.flag_actions) ranked WHERE rn = 1
        ) latest
        WHERE f.flag_id = latest.flag_id {where_clause}
    """, params)


def _spell_already_flagged(flag: dict, stored, rows: list[dict]) -> bool:
    """Does this red onset continue a spell flagged earlier? (A partial rerun cannot see the earlier periods.)

    True when an earlier red flag of the KPI has not recovered before this period, judged by its stored
    recovery and by the evaluated rows between the two periods."""
    period = parse_period(flag["period"])
    for other in stored:
        if other["kpi_id"] != flag["kpi_id"] or other["kind"] != "red" or not other["condition_present"]:
            continue
        other_period = parse_period(other["period"])
        if other_period >= period:
            continue
        if other["recovered_period"] is not None and parse_period(other["recovered_period"]) <= period:
            continue
        between = [r for r in rows if other_period < parse_period(r["period"]) < period]
        if find_recovery(other, between) is None:
            return True
    return False


def sync_flags(con: duckdb.DuckDBPyConnection, evaluated: pd.DataFrame, now: dt.datetime | None = None,
               as_of: dt.date | None = None, escalate_after_days: int = ESCALATE_AFTER_DAYS) -> SyncResult:
    """Raise new flags, refresh existing ones, auto-resolve those whose indicator recovered (or mark their condition
    cleared), age them against ``as_of`` (default: the end of the latest period evaluated) and escalate open flags
    nobody acted on for more than ``escalate_after_days``; idempotent."""
    now = (now or _now()).replace(microsecond=0)
    ensure_schema(con)
    result = SyncResult()
    detected = detect_flags(evaluated)
    detected_ids = {f["flag_id"] for f in detected}
    rows_by_kpi: dict[str, list[dict]] = {}
    for row in evaluated.to_dict("records"):
        rows_by_kpi.setdefault(row["kpi_id"], []).append(row)
    for rows in rows_by_kpi.values():
        rows.sort(key=lambda r: parse_period(r["period"]))
    evaluated_keys = {(r["kpi_id"], r["period"]) for r in evaluated[["kpi_id", "period"]].to_dict("records")}

    with transaction(con):
        stored = {row["flag_id"]: row for row in fetch(con, """
            SELECT flag_id, kpi_id, period, kind, baseline_value, threshold, status,
                   recovered_period, condition_present, comparison_basis, cleared_period
            FROM metrics.flags WHERE kind <> :manual""", {"manual": MANUAL})}  # people close manual flags
        for flag in stored.values():
            if (flag["kpi_id"], flag["period"]) in evaluated_keys and flag["flag_id"] not in detected_ids and flag["condition_present"]:
                execute(con, "UPDATE metrics.flags SET condition_present = false, last_evaluated_at = :now WHERE flag_id = :flag_id",
                        {"now": now, "flag_id": flag["flag_id"]})
                flag["condition_present"] = False
                result.condition_gone.append(flag["flag_id"])
        for flag in detected:
            values = {c: flag[c] for c in _FLAG_COLUMNS}
            if flag["flag_id"] in stored:
                execute(con, f"""UPDATE metrics.flags SET {', '.join(f'{c} = :{c}' for c in _FLAG_COLUMNS[1:])},
                                 condition_present = true, last_evaluated_at = :now WHERE flag_id = :flag_id""",
                        {**values, "now": now})
                result.updated += 1
                continue
            if flag["kind"] == "red" and _spell_already_flagged(flag, stored.values(), rows_by_kpi.get(flag["kpi_id"], [])):
                continue
            execute(con, f"""INSERT INTO metrics.flags ({', '.join(_FLAG_COLUMNS)}, status, raised_at, updated_at,
                             condition_present, last_evaluated_at, recovered_period)
                             VALUES ({', '.join(':' + c for c in _FLAG_COLUMNS)}, 'open', :now, :now, true, :now, NULL)""",
                    {**values, "now": now})
            _insert_action(con, flag["flag_id"], now, SYSTEM_ACTOR, f"raised: {flag['message']}", "open", "engine")
            result.raised.append(flag["flag_id"])
            stored[flag["flag_id"]] = {**flag, "status": "open", "recovered_period": None, "condition_present": True,
                                       "cleared_period": None}

        for flag in stored.values():
            if flag["recovered_period"] is not None or flag["kpi_id"] not in rows_by_kpi:
                continue
            flag_period = parse_period(flag["period"])
            later = [r for r in rows_by_kpi[flag["kpi_id"]] if parse_period(r["period"]) > flag_period]
            candidate = {**flag, "baseline_value": _clean(flag["baseline_value"])}
            recovery_period = find_recovery(candidate, later)
            if recovery_period is None:
                cleared = find_clearing(candidate, later)
                if cleared is not None and flag.get("cleared_period") is None:
                    execute(con, "UPDATE metrics.flags SET cleared_period = :cleared WHERE flag_id = :flag_id",
                            {"cleared": cleared, "flag_id": flag["flag_id"]})
                    flag["cleared_period"] = cleared
                    if flag["status"] not in ("resolved", CLEARED):
                        _insert_action(con, flag["flag_id"], now, SYSTEM_ACTOR,
                                       f"condition cleared in {cleared} without the indicator recovering on the rule "
                                       f"that raised the flag: not resolved", CLEARED, "engine")
                        flag["status"] = CLEARED
                        result.cleared.append(flag["flag_id"])
                continue
            execute(con, "UPDATE metrics.flags SET recovered_period = :recovered WHERE flag_id = :flag_id",
                    {"recovered": recovery_period, "flag_id": flag["flag_id"]})
            flag["recovered_period"] = recovery_period
            if flag["status"] != "resolved":  # a person may already have resolved it; the log keeps their word
                _insert_action(con, flag["flag_id"], now, SYSTEM_ACTOR,
                               f"auto-resolved: indicator recovered in {recovery_period}", "resolved", "engine")
                flag["status"] = "resolved"
                result.auto_resolved.append(flag["flag_id"])
        _refresh_status(con)

        # age every flag against the data's as-of date, and escalate those nobody acted on
        as_of = as_of or max((period_end(r["period"]) for r in evaluated.to_dict("records")), default=now.date())
        current = [tuple(row.values()) for row in fetch(
            con, "SELECT flag_id, period, recovered_period, cleared_period, status, condition_present FROM metrics.flags")]
        acted = {row["flag_id"] for row in fetch(
            con, "SELECT DISTINCT flag_id FROM metrics.flag_actions WHERE source <> 'engine' OR status = 'escalated'")}
        for fid, period, recovered_p, cleared_p, status_now, present in current:
            closed = recovered_p or cleared_p
            age = days_open(period, as_of, closed)
            execute(con, "UPDATE metrics.flags SET opened_on = :opened, closed_on = :closed, days_open = :age WHERE flag_id = :fid",
                    {"opened": period_end(period), "closed": period_end(closed) if closed else None, "age": age, "fid": fid})
            if (status_now == "open" and closed is None and present and fid not in acted
                    and age > escalate_after_days):
                _insert_action(con, fid, now, SYSTEM_ACTOR,
                               f"auto-escalated: open {age} days with no action recorded", "escalated", "engine")
                result.escalated.append(fid)
        _refresh_status(con)
        _refresh_status(con)
    return result


def record_action(con: duckdb.DuckDBPyConnection, flag: str, actor: str, action: str, status: str,
                  acted_at: dt.datetime | None = None, source: str = "cli") -> bool:
    """Log one action on a flag and move it to ``status``; True when the action was new."""
    ensure_schema(con)
    if status not in STATUSES:
        raise FlagError(f"status {status!r} is not one of {', '.join(STATUSES)}")
    if not actor.strip():
        raise FlagError("actor (who acted) is required")
    if not action.strip():
        raise FlagError("action (what was done) is required")
    if not fetch(con, "SELECT 1 FROM metrics.flags WHERE flag_id = :flag", {"flag": flag}):
        raise FlagError(f"no flag {flag!r} (see `citystat flags list`)")
    with transaction(con):
        added = _insert_action(con, flag, acted_at or _now(), actor.strip(), action.strip(), status, source)
        _refresh_status(con, [flag])
    return added


def list_flags(con: duckdb.DuckDBPyConnection, status: str | None = None, kpi_id: str | None = None,
               department_code: str | None = None, include_resolved: bool = False) -> pd.DataFrame:
    ensure_schema(con)
    clauses, params = [], {}
    if status:
        clauses.append("status = :status")
        params["status"] = status
    elif not include_resolved:
        clauses.append("status <> 'resolved'")
    if kpi_id:
        clauses.append("kpi_id = :kpi_id")
        params["kpi_id"] = kpi_id
    if department_code:
        clauses.append("department_code = :department_code")
        params["department_code"] = department_code
    where_sql = f"WHERE {' AND '.join(clauses)}" if clauses else ""
    frame = read(con, f"SELECT * FROM metrics.flags {where_sql}", params)
    # ordered here, not by ORDER BY: PostgreSQL's text order follows the database's collation, DuckDB's the code points
    return frame.sort_values(["period", "critical", "flag_id"], ascending=[False, False, True]).reset_index(drop=True)


def flag_history(con: duckdb.DuckDBPyConnection, flag: str) -> pd.DataFrame:
    ensure_schema(con)
    return read(con, """SELECT acted_at, actor, action, status, source FROM metrics.flag_actions
                        WHERE flag_id = :flag ORDER BY acted_at, seq""", {"flag": flag})


# ---- the office's CSV ----------------------------------------------------------------------------------------

def export_actions(con: duckdb.DuckDBPyConnection, path: Path) -> int:
    """Write the whole action log (one row per action, oldest first) in the import format; returns rows written."""
    ensure_schema(con)
    rows = [(r["flag_id"], r["kpi_id"], r["period"], r["kind"], r["acted_at"].strftime("%Y-%m-%d %H:%M:%S"),
             r["actor"], r["action"], r["status"], r["source"]) for r in fetch(con, """
        SELECT a.flag_id, f.kpi_id, f.period, f.kind, a.acted_at, a.actor, a.action, a.status, a.source
        FROM metrics.flag_actions a JOIN metrics.flags f USING (flag_id)
        ORDER BY a.acted_at, a.seq""")]
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(ACTION_CSV_COLUMNS)
        writer.writerows(rows)
    return len(rows)


def _parse_acted_at(text: str) -> dt.datetime:
    value = dt.datetime.fromisoformat(text)
    if value.tzinfo is not None:
        raise ValueError(f"{text!r} has a UTC offset; write local time without one (YYYY-MM-DD HH:MM:SS)")
    return value.replace(microsecond=0)


def read_action_csv(con: duckdb.DuckDBPyConnection, path: Path) -> list[dict]:
    """Validated action rows; every problem names the line and field. Nothing is written."""
    ensure_schema(con)
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"{path}: file not found")
    known = {r["flag_id"]: (r["kpi_id"], r["period"], r["kind"])
             for r in fetch(con, "SELECT flag_id, kpi_id, period, kind FROM metrics.flags")}
    problems: list[Problem] = []
    actions = []
    with path.open(newline="", encoding="utf-8-sig") as handle:
        reader = csv.DictReader(handle)
        header = [(c or "").strip().lower() for c in (reader.fieldnames or [])]
        reader.fieldnames = header
        missing = [c for c in ACTION_CSV_REQUIRED if c not in header]
        if missing:
            raise ValidationError(f"flag actions {path}", [Problem(where(str(path), 1), "header", f"missing column(s) {', '.join(missing)}")])
        for row in reader:
            at = where(str(path), reader.line_num)
            if None in row:
                problems.append(Problem(at, None, "more cells than header columns"))
                continue
            row = {k: (v or "").strip() for k, v in row.items()}
            if not any(row.values()):
                continue
            before = len(problems)
            for column in ACTION_CSV_REQUIRED:
                if not row[column]:
                    problems.append(Problem(at, column, "is required"))
            if row["flag_id"] and row["flag_id"] not in known:
                problems.append(Problem(at, "flag_id", f"{row['flag_id']!r} is not a flag in the warehouse"))
            elif row["flag_id"]:
                for column, stored in zip(("kpi_id", "period", "kind"), known[row["flag_id"]]):
                    if row.get(column) and row[column] != stored:
                        problems.append(Problem(at, column, f"{row[column]!r} does not match flag {row['flag_id']} ({stored})"))
            if row["status"] and row["status"].lower() not in STATUSES:
                problems.append(Problem(at, "status", f"{row['status']!r} is not one of {', '.join(STATUSES)}"))
            acted_at = None
            if row["acted_at"]:
                try:
                    acted_at = _parse_acted_at(row["acted_at"])
                except ValueError as error:
                    message = str(error) if "offset" in str(error) else f"{row['acted_at']!r} is not a date-time (YYYY-MM-DD HH:MM:SS)"
                    problems.append(Problem(at, "acted_at", message))
            if len(problems) > before:
                continue
            actions.append({"flag_id": row["flag_id"], "acted_at": acted_at, "actor": row["actor"],
                            "action": row["action"], "status": row["status"].lower(),
                            "source": row.get("source") or "csv"})
    if problems:
        raise ValidationError(f"flag actions {path}", problems)
    return actions


def import_actions(con: duckdb.DuckDBPyConnection, path: Path) -> tuple[int, int]:
    """Validate the whole file, then append its new actions in one transaction; returns (added, already_logged)."""
    actions = read_action_csv(con, path)
    added = 0
    with transaction(con):
        for a in actions:
            added += _insert_action(con, a["flag_id"], a["acted_at"], a["actor"], a["action"], a["status"],
                                    a["source"] if a["source"] in SOURCES else "csv")
        _refresh_status(con, sorted({a["flag_id"] for a in actions}) or None)
    return added, len(actions) - added


# ---- the workbench's actions (landed from its database, staging.stg_perf_workbench__flag_actions) -------------

def workbench_action_text(kind: str, owner=None, action=None, due_date=None, follow_up=None, escalated_to=None,
                          reason=None) -> str:
    """One workbench step in words, as metrics.flag_actions.action carries it (the workbench shows the same)."""
    if kind == "raise":
        return f"raised by hand: {reason}"
    if kind == "commit":
        return f"committed: {action} (owner {owner}, due {due_date})"
    if kind == "follow_up":
        return f"follow-up: {follow_up}" + (f": {reason}" if reason else "")
    if kind == "escalate":
        return f"escalated to {escalated_to}: {reason}"
    return f"{'dismissed' if kind == 'dismiss' else 'resolved'}: {reason}"


@dataclass
class WorkbenchResult:
    added: int = 0
    manual_raised: list[str] = field(default_factory=list)
    unknown_flags: list[str] = field(default_factory=list)  # actions on a flag the warehouse does not hold


def import_workbench_actions(con: duckdb.DuckDBPyConnection, actions: pd.DataFrame, as_of: dt.date | None = None,
                             now: dt.datetime | None = None) -> WorkbenchResult:
    """Append the workbench's steps to metrics.flag_actions (source 'workbench'), create the flags raised by hand
    (kind 'manual', from the KPI's status row of that month) and keep each flag's latest commitment and follow-up
    on metrics.flags. Idempotent: a step already logged is not added again."""
    ensure_schema(con)
    now = (now or _now()).replace(microsecond=0)
    result = WorkbenchResult()
    rows = [{k: _clean(v) for k, v in r.items()} for r in actions.sort_values(["acted_at", "id"]).to_dict("records")]
    with transaction(con):
        known = {r["flag_id"] for r in fetch(con, "SELECT flag_id FROM metrics.flags")}
        for r in rows:
            if r["kind"] == "raise" and r["flag_id"] not in known and r["flag_id"] == flag_id(r["kpi_id"], r["period"], MANUAL):
                found = fetch(con, """SELECT kpi_name, value, target, status AS rag_status, critical FROM metrics.kpi_status
                                      WHERE kpi_id = :kpi_id AND period = :period""",
                              {"kpi_id": r["kpi_id"], "period": r["period"]})
                status_row = tuple(found[0].values()) if found else (None,) * 5
                execute(con, """INSERT INTO metrics.flags (flag_id, kpi_id, kpi_name, department_code, period, kind,
                                    critical, value, target, rag_status, message, status, raised_at, updated_at,
                                    condition_present, last_evaluated_at)
                                VALUES (:flag_id, :kpi_id, :kpi_name, :department_code, :period, :kind, :critical, :value,
                                        :target, :rag_status, :message, 'open', :acted_at, :acted_at, true, :now)""",
                        {"flag_id": r["flag_id"], "kpi_id": r["kpi_id"], "kpi_name": status_row[0],
                         "department_code": r["department_code"], "period": r["period"], "kind": MANUAL,
                         "critical": bool(status_row[4]), "value": status_row[1], "target": status_row[2],
                         "rag_status": status_row[3], "message": f"raised by hand: {r['reason']}",
                         "acted_at": r["acted_at"], "now": now})
                if as_of is not None:
                    execute(con, "UPDATE metrics.flags SET opened_on = :opened, days_open = :age WHERE flag_id = :flag_id",
                            {"opened": period_end(r["period"]), "age": days_open(r["period"], as_of), "flag_id": r["flag_id"]})
                known.add(r["flag_id"])
                result.manual_raised.append(r["flag_id"])
            if r["flag_id"] not in known:
                result.unknown_flags.append(r["flag_id"])
                continue
            text = workbench_action_text(r["kind"], r.get("owner"), r.get("action"),
                                         None if r.get("due_date") is None else pd.Timestamp(r["due_date"]).date(),
                                         r.get("follow_up"), r.get("escalated_to"), r.get("reason"))
            result.added += _insert_action(con, r["flag_id"], pd.Timestamp(r["acted_at"]).to_pydatetime(), r["actor"],
                                           text, r["status"], "workbench")
            if r["kind"] == "commit":
                execute(con, """UPDATE metrics.flags SET commitment = :action, commitment_owner = :owner,
                                commitment_due = :due, follow_up = NULL WHERE flag_id = :flag_id""",
                        {"action": r.get("action"), "owner": r.get("owner"), "due": r.get("due_date"), "flag_id": r["flag_id"]})
            elif r["kind"] == "follow_up":
                execute(con, "UPDATE metrics.flags SET follow_up = :follow_up WHERE flag_id = :flag_id",
                        {"follow_up": r.get("follow_up"), "flag_id": r["flag_id"]})
        _refresh_status(con)
    result.unknown_flags = sorted(set(result.unknown_flags))
    return result
