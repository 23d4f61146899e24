"""Socrata SODA 2 over the procurement portal store (``procurement/portal.sqlite``).

``GET /resource/{id}.json`` for ``vndr-2x7k`` (vendors), ``ctrc-9p3m`` (contracts) and
``mlst-4h8q`` (contract_milestones), with:

- ``$select``, ``$where``, ``$order``: the SoQL subset in ``soql.py``;
- ``$limit`` (default 1000, max 50000) and ``$offset``; rows are always ordered, ``:id`` last,
  so ``$limit`` + ``$offset`` paging is stable even without ``$order``;
- ``$q``: every word must occur (case-insensitive) in some text column;
- ``column=value``: Socrata's simple equality filter;
- ``$$app_token`` is accepted and ignored.

Like Socrata, the JSON has every value as a string, leaves out null fields, and returns the
system fields ``:id`` and ``:updated_at`` only when selected (``$select=:*,*``); the headers
``X-SODA2-Fields`` and ``X-SODA2-Types`` list the selected columns and their types. Errors
answer 400 ``{"error": true, "code": "query.compiler.malformed", "message": ...}``; an unknown
resource answers 404 ``{"error": true, "code": "not_found", "message": ...}``.
"""
from __future__ import annotations

import json
import re
import sqlite3
from pathlib import Path

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from demo_city.servers.database import StoreUnavailable, read_only, table_columns
from demo_city.servers.soql import SoqlError, Table, compile_order, compile_select, compile_where, quote_identifier

PORTAL_STORE = Path("procurement") / "portal.sqlite"
RESOURCES = {"vndr-2x7k": "vendors", "ctrc-9p3m": "contracts", "mlst-4h8q": "contract_milestones"}
DEFAULT_LIMIT = 1000
MAX_LIMIT = 50_000
PARAMETERS = {"$select", "$where", "$order", "$limit", "$offset", "$q", "$$app_token"}
NUMERIC_TYPES = ("INT", "REAL", "NUM", "FLOA", "DOUB", "DEC")  # SQLite's numeric type affinities


class SodaError(Exception):
    def __init__(self, status: int, code: str, message: str):
        super().__init__(message)
        self.status, self.code, self.message = status, code, message

    def response(self) -> JSONResponse:
        return JSONResponse({"error": True, "code": self.code, "message": self.message}, status_code=self.status)


def malformed(message: str) -> SodaError:
    return SodaError(400, "query.compiler.malformed", message)


def _soda_type(column: str, declared: str) -> str:
    if column.startswith(":"):
        return "meta_data"
    return "number" if any(t in declared.upper() for t in NUMERIC_TYPES) else "text"


def _soda_value(value) -> str:
    """Socrata's JSON carries every value as a string; whole floats without a trailing '.0'."""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


MAX_OFFSET = 2**63 - 1  # SQLite's largest integer


def _count(name: str, text: str, maximum: int | None = None) -> int:
    # ASCII digits only: int() would also read '१००' or '1_000'
    if not re.fullmatch(r"[0-9]{1,30}", text):
        raise malformed(f"{name}: {text[:40]!r} is not a whole number written in ASCII digits")
    number = int(text)
    maximum = MAX_OFFSET if maximum is None else maximum
    if number < 0 or number > maximum:
        raise malformed(f"{name}: must be between 0 and {maximum}" if maximum is not None else f"{name}: must not be negative")
    return number


def _full_text(words: str, text_columns: list[str]) -> tuple[str, list]:
    """``$q``: each word (LIKE wildcards escaped) must occur in at least one text column."""
    conditions, params = [], []
    for word in words.split():
        pattern = "%" + word.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        conditions.append("(" + " OR ".join(f"{quote_identifier(c)} LIKE ? ESCAPE '\\'" for c in text_columns) + ")")
        params.extend([pattern] * len(text_columns))
    return " AND ".join(conditions), params


def build_query(query, table: Table, types: dict[str, str]) -> tuple[str, list, list[str]]:
    """Validated SODA parameters → (SQL, parameters, selected column names)."""
    for name in query.keys():
        if len(query.getlist(name)) > 1:
            raise malformed(f"{name}: given more than once")
        if name.startswith("$") and name not in PARAMETERS:
            raise malformed(f"{name}: unknown or unsupported parameter (supported: {', '.join(sorted(PARAMETERS))})")
        if not name.startswith("$") and name not in table.columns:
            raise malformed(f"no such column: {name}")

    selected = compile_select(query["$select"], table) if "$select" in query else list(table.data_columns)
    conditions, params = [], []
    if "$where" in query:
        sql, values = compile_where(query["$where"], table)
        conditions.append(sql)
        params.extend(values)
    for name in query.keys():
        if not name.startswith("$"):
            conditions.append(f"{table.checked(name)} = ?")
            params.append(query[name])
    if query.get("$q", "").strip():
        text_columns = [c for c in table.data_columns if types[c] == "text"]
        sql, values = _full_text(query["$q"], text_columns)
        conditions.append(sql)
        params.extend(values)

    order = compile_order(query["$order"], table) if "$order" in query else []
    if ":id" in table.columns and ":id" not in {name for name, _ in order}:
        order.append((":id", "ASC"))  # a total order, so pages never overlap or skip
    limit = _count("$limit", query["$limit"], MAX_LIMIT) if "$limit" in query else DEFAULT_LIMIT
    offset = _count("$offset", query["$offset"]) if "$offset" in query else 0

    sql = f"SELECT {', '.join(map(quote_identifier, selected))} FROM {quote_identifier(table.name)}"
    if conditions:
        sql += " WHERE " + " AND ".join(conditions)
    if order:
        sql += " ORDER BY " + ", ".join(f"{quote_identifier(name)} {direction}" for name, direction in order)
    return sql + " LIMIT ? OFFSET ?", [*params, limit, offset], selected


class SodaApi:
    """The SODA resources of one generated city's procurement portal."""

    def __init__(self, data_dir: Path):
        self.store = Path(data_dir) / PORTAL_STORE

    def routes(self) -> list[Route]:
        return [Route("/resource/{resource_id}.{format}", self.resource)]

    async def resource(self, request: Request):
        resource_id, fmt = request.path_params["resource_id"], request.path_params["format"]
        if resource_id not in RESOURCES or fmt != "json":
            known = ", ".join(f"{r}.json" for r in RESOURCES)
            return SodaError(404, "not_found", f"no resource {resource_id}.{fmt} (this portal has {known})").response()

        def work():
            with read_only(self.store) as conn:
                columns = table_columns(conn, RESOURCES[resource_id])
                table = Table(RESOURCES[resource_id], tuple(name for name, _ in columns))
                types = {name: _soda_type(name, declared) for name, declared in columns}
                sql, params, selected = build_query(request.query_params, table, types)
                try:
                    rows = conn.execute(sql, params).fetchall()
                except sqlite3.OperationalError as e:
                    if "too large" in str(e) or "stack overflow" in str(e):
                        raise malformed(f"$where is nested too deeply ({e})") from None
                    raise
            body = [{name: _soda_value(row[name]) for name in selected if row[name] is not None} for row in rows]
            headers = {"X-SODA2-Fields": json.dumps(selected), "X-SODA2-Types": json.dumps([types[n] for n in selected])}
            return body, headers

        try:
            body, headers = await run_in_threadpool(work)
        except SoqlError as e:
            return malformed(str(e)).response()
        except SodaError as e:
            return e.response()
        except StoreUnavailable as e:
            return SodaError(503, "unavailable", f"procurement portal store unavailable: {e}").response()
        return JSONResponse(body, headers=headers)
