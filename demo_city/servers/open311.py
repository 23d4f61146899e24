"""Open311 GeoReport v2 over the 311 CRM store (``crm311/crm.sqlite``), JSON format only.

- ``GET /open311/v2/services.json``: service_code, service_name, description, metadata (bool),
  type, keywords, group.
- ``GET /open311/v2/requests.json``: every request field of the contract, including the caller's
  contact (first_name, last_name, phone, email: this is the city's internal CRM API). Parameters:
  ``start_date`` / ``end_date`` (on requested_datetime, both inclusive, as GeoReport says),
  ``updated_after`` (inclusive) / ``updated_before`` (exclusive) on updated_datetime, so
  consecutive windows neither overlap nor leave gaps; ``status`` (open|closed, comma list),
  ``service_code`` and ``service_request_id`` (comma lists), ``page`` (1-based) and
  ``page_size`` (default 100, max 1000); ``jurisdiction_id`` is accepted and ignored. Dates are
  ISO 8601, with an offset or ``Z`` (compared as instants) or without (city local time). Order is
  always ``updated_datetime, service_request_id`` so pages are disjoint and stable.
- ``GET /open311/v2/requests/{service_request_id}.json``: an array of that one request.

Bad parameters (unparseable date, page < 1, page_size outside 1..1000, unknown status or
service code, end before start, unknown parameter) answer HTTP 400 with the GeoReport error
body ``[{"code": 400, "description": "<parameter>: <why>"}]``.
"""
from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from pathlib import Path
from zoneinfo import ZoneInfo

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from demo_city.servers.database import StoreUnavailable, read_only

CRM_STORE = Path("crm311") / "crm.sqlite"
CITY_TIMEZONE = ZoneInfo("America/New_York")
DEFAULT_PAGE_SIZE = 100
MAX_PAGE_SIZE = 1000

# agency_responsible and sla_days are this CRM's extensions (SLA scoring needs them)
SERVICE_FIELDS = ("service_code", "service_name", "description", "metadata", "type", "keywords", "group", "agency_responsible", "sla_days")
REQUEST_FIELDS = (
    "service_request_id", "status", "status_notes", "service_name", "service_code", "description",
    "agency_responsible", "service_notice", "requested_datetime", "updated_datetime", "expected_datetime",
    "closed_datetime", "address", "address_id", "zipcode", "lat", "long", "media_url",
    "first_name", "last_name", "phone", "email",
)  # fmt: skip
STATUSES = ("open", "closed")
LIST_PARAMETERS = {"status", "service_code", "service_request_id"}  # may repeat; values are comma lists
SCALAR_PARAMETERS = {"start_date", "end_date", "updated_after", "updated_before", "page", "page_size", "jurisdiction_id"}

_INSTANT_FILTERS = (  # (parameter, column, comparison)
    ("start_date", "requested_datetime", ">="),
    ("end_date", "requested_datetime", "<="),
    ("updated_after", "updated_datetime", ">="),
    ("updated_before", "updated_datetime", "<"),
)
_SELECT_REQUESTS = "SELECT " + ", ".join(f'"{f}"' for f in REQUEST_FIELDS) + " FROM requests"
_SELECT_SERVICES = "SELECT " + ", ".join(f'"{f}"' for f in SERVICE_FIELDS) + " FROM services ORDER BY service_code"
# A '+' offset sent unencoded in a query string arrives as a space ("...T14:22:10 05:00").
_SPACE_FOR_PLUS = re.compile(r"(T\d\d:\d\d(?::\d\d(?:\.\d+)?)?) (\d\d:?\d\d)$")


class Open311Error(Exception):
    def __init__(self, status: int, description: str):
        super().__init__(description)
        self.status = status
        self.description = description

    def response(self) -> JSONResponse:
        return JSONResponse([{"code": self.status, "description": self.description}], status_code=self.status)


def parse_instant(name: str, value: str) -> dt.datetime:
    """An ISO 8601 parameter as an aware datetime; without an offset it is city local time. Years 1000-9998 only
    (the SQL compares a day either side in UTC), ASCII only."""
    bad = Open311Error(400, f"{name}: {value[:60]!r} is not an ISO 8601 datetime between years 1000 and 9998 "
                            "(e.g. 2024-03-05T14:22:10-05:00)")
    if not value.isascii():
        raise bad
    try:
        parsed = dt.datetime.fromisoformat(_SPACE_FOR_PLUS.sub(r"\1+\2", value.strip()))
        parsed = parsed if parsed.tzinfo else parsed.replace(tzinfo=CITY_TIMEZONE)
        utc = parsed.astimezone(dt.timezone.utc)
    except (ValueError, OverflowError):
        raise bad from None
    if not 1000 <= utc.year <= 9998:
        raise bad
    return parsed


MAX_PAGE = 10**9  # page x page_size stays a 64-bit SQLite integer


def _positive_int(name: str, value: str, maximum: int | None = None) -> int:
    # ASCII digits only: int() would also read '१००', ' 5' or '1_000'
    if not re.fullmatch(r"[0-9]{1,30}", value):
        raise Open311Error(400, f"{name}: {value[:40]!r} is not a whole number written in ASCII digits")
    number = int(value)
    if number < 1 or (maximum is not None and number > maximum):
        bounds = f"between 1 and {maximum}" if maximum else "at least 1"
        raise Open311Error(400, f"{name}: must be {bounds}, got {number}")
    return number


def _instant_condition(column: str, op: str, instant: dt.datetime) -> tuple[str, list]:
    """Compare a stored offset timestamp with ``instant`` exactly, yet still use the column's index.

    Stored values are local time with offset, so text order is only approximately time order;
    a text range one day wider than the instant narrows the scan through the index, and
    julianday() (which applies each value's offset) decides exactly.
    """
    utc = instant.astimezone(dt.timezone.utc)
    if op in (">", ">="):
        index_range = f'"{column}" >= ?', (utc - dt.timedelta(days=1)).date().isoformat()
    else:
        index_range = f'"{column}" < ?', (utc + dt.timedelta(days=2)).date().isoformat()
    return f'{index_range[0]} AND julianday("{column}") {op} julianday(?)', [index_range[1], utc.isoformat()]


def _check_names(query, allowed: set[str], lists: set[str] = frozenset()) -> None:
    for name in query.keys():
        if name not in allowed:
            raise Open311Error(400, f"{name}: unknown parameter (supported: {', '.join(sorted(allowed))})")
        if name not in lists and len(query.getlist(name)) > 1:
            raise Open311Error(400, f"{name}: given more than once")


def _list_values(query, name: str) -> list[str]:
    values = [v.strip() for raw in query.getlist(name) for v in raw.split(",")]
    if any(not v for v in values):
        raise Open311Error(400, f"{name}: empty value in list")
    return values


@dataclass
class RequestFilters:
    """requests.json's parameters, validated: SQL conditions with their parameters, and the page."""

    conditions: list[str] = field(default_factory=list)
    params: list = field(default_factory=list)
    service_codes: list[str] = field(default_factory=list)  # checked against the services table
    page: int = 1
    page_size: int = DEFAULT_PAGE_SIZE

    @classmethod
    def parse(cls, query) -> "RequestFilters":
        _check_names(query, LIST_PARAMETERS | SCALAR_PARAMETERS, LIST_PARAMETERS)
        filters = cls()
        instants = {name: parse_instant(name, query[name]) for name, *_ in _INSTANT_FILTERS if name in query}
        for first, last in (("start_date", "end_date"), ("updated_after", "updated_before")):
            if first in instants and last in instants and instants[last] < instants[first]:
                raise Open311Error(400, f"{last}: {query[last]} is before {first} {query[first]}")
        for name, column, op in _INSTANT_FILTERS:
            if name in instants:
                filters._add(*_instant_condition(column, op, instants[name]))

        for name in sorted(LIST_PARAMETERS & set(query.keys())):
            values = _list_values(query, name)
            if name == "status" and (unknown := [v for v in values if v not in STATUSES]):
                raise Open311Error(400, f"status: unknown status {unknown[0]!r} (expected open or closed)")
            if name == "service_code":
                filters.service_codes = values
            filters._add(f'"{name}" IN ({", ".join("?" * len(values))})', values)

        if "page" in query:
            filters.page = _positive_int("page", query["page"], MAX_PAGE)
        if "page_size" in query:
            filters.page_size = _positive_int("page_size", query["page_size"], MAX_PAGE_SIZE)
        return filters

    def _add(self, condition: str, params: list) -> None:
        self.conditions.append(condition)
        self.params.extend(params)

    def sql(self) -> tuple[str, list]:
        where = f" WHERE {' AND '.join(self.conditions)}" if self.conditions else ""
        sql = f"{_SELECT_REQUESTS}{where} ORDER BY updated_datetime, service_request_id LIMIT ? OFFSET ?"
        return sql, [*self.params, self.page_size, (self.page - 1) * self.page_size]


def _request_json(row) -> dict:
    return {name: row[name] for name in REQUEST_FIELDS}


class Open311Api:
    """The GeoReport v2 endpoints for one generated city."""

    def __init__(self, data_dir: Path):
        self.store = Path(data_dir) / CRM_STORE

    def routes(self) -> list[Route]:
        return [
            Route("/open311/v2/services.{format}", self.services),
            Route("/open311/v2/requests.{format}", self.requests),
            Route("/open311/v2/requests/{service_request_id}.{format}", self.request),
        ]

    async def _answer(self, request: Request, work):
        try:
            if request.path_params["format"] != "json":
                raise Open311Error(404, f"format {request.path_params['format']!r} is not supported; use .json")
            return JSONResponse(await run_in_threadpool(work))
        except Open311Error as e:
            return e.response()
        except StoreUnavailable as e:
            return Open311Error(503, f"311 CRM store unavailable: {e}").response()

    async def services(self, request: Request):
        def work():
            _check_names(request.query_params, {"jurisdiction_id"})
            with read_only(self.store) as conn:
                return [{**dict(row), "metadata": bool(row["metadata"])} for row in conn.execute(_SELECT_SERVICES)]

        return await self._answer(request, work)

    async def requests(self, request: Request):
        def work():
            filters = RequestFilters.parse(request.query_params)
            with read_only(self.store) as conn:
                if filters.service_codes:
                    known = {row[0] for row in conn.execute("SELECT service_code FROM services")}
                    if unknown := [c for c in filters.service_codes if c not in known]:
                        raise Open311Error(400, f"service_code: unknown service code {unknown[0]!r}")
                return [_request_json(row) for row in conn.execute(*filters.sql())]

        return await self._answer(request, work)

    async def request(self, request: Request):
        request_id = request.path_params["service_request_id"]

        def work():
            _check_names(request.query_params, {"jurisdiction_id"})
            with read_only(self.store) as conn:
                row = conn.execute(f"{_SELECT_REQUESTS} WHERE service_request_id = ?", [request_id]).fetchone()
            if row is None:
                raise Open311Error(404, f"service_request_id: no request {request_id!r}")
            return [_request_json(row)]

        return await self._answer(request, work)
