"""Socrata SODA 2 (open-data portals): ``GET /resource/<id>.json`` paged with ``$limit``/``$offset``.

Configured from the inventory entry: ``location`` is the portal's base URL, ``source_object`` the
resource id (``vndr-2x7k``), ``cursor_field`` (normally ``:updated_at``) makes loads incremental
with ``$where=<cursor> >= '<mark>'`` and ``$order=<cursor>,:id``. Rows come as Socrata sends them
(every value a string, null fields left out); the ``X-SODA2-Fields`` header keeps columns that are
null in every row. System fields ``:id`` and ``:updated_at`` are selected with ``$select=:*,*``.

Reconciled against the portal's own count: before paging, ``$select=count(*)`` with the same ``$where``.
A snapshot must land exactly that many rows (the landing refuses the batch otherwise); an incremental
load must receive at least that many distinct rows (more: rows changed while it ran). A portal that
does not answer ``count(*)`` (HTTP 4xx) is read without the count, and the log says so.
"""
from __future__ import annotations

import json
import logging
from typing import Iterator

from citystat.connectors.base import Chunk, SourceError, SourceSpec, SourceState
from citystat.connectors.http import JsonApi
from citystat.connectors.paging import keyset_pages
from citystat.connectors.retry import RetryPolicy

ID_FIELD = ":id"
log = logging.getLogger(__name__)


def soql_string(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


class SodaConnector:
    def __init__(self, spec: SourceSpec, *, policy: RetryPolicy, timeout: float, page_size: int = 1000,
                 request_deadline: float | None = None, asset_deadline: float | None = None):
        self.spec, self.policy, self.timeout, self.page_size = spec, policy, timeout, page_size
        self.request_deadline, self.asset_deadline = request_deadline, asset_deadline
        base = spec.location.rstrip("/")
        self.path = f"{'' if base.endswith('/resource') else 'resource/'}{spec.source_object.removesuffix('.json')}.json"
        self.columns: list[str] = []

    def extract(self, state: SourceState) -> Iterator[Chunk]:
        with JsonApi(self.spec, self.spec.location, policy=self.policy, timeout=self.timeout,
                     request_deadline=self.request_deadline, asset_deadline=self.asset_deadline) as api:
            cursor = self.spec.cursor_field

            start_after = state.watermark.value if cursor else None
            expected = self._count(api, f"{cursor} >= {soql_string(start_after)}" if start_after is not None else None)
            received: set[str] = set()

            def fetch(after: str | None, page: int) -> list[dict]:
                params = {
                    "$select": ":*,*",
                    "$order": f"{cursor},{ID_FIELD}" if cursor else ID_FIELD,
                    "$limit": self.page_size,
                    "$offset": (page - 1) * self.page_size,
                }
                if after is not None:
                    params["$where"] = f"{cursor} >= {soql_string(after)}"
                reply = api.get(self.path, params)
                if not isinstance(reply.data, list) or not all(isinstance(row, dict) for row in reply.data):
                    raise SourceError(f"{self.spec.label}: {api.client.base_url}{self.path} did not return a JSON array of objects")
                if not self.columns and reply.headers.get("X-SODA2-Fields"):
                    self.columns = json.loads(reply.headers["X-SODA2-Fields"])
                received.update(str(row.get(ID_FIELD)) for row in reply.data)
                return reply.data

            if cursor:
                pages = keyset_pages(fetch, watermark=state.watermark, cursor_field=cursor, id_field=ID_FIELD,
                                     page_size=self.page_size)
            else:
                pages = _offset_pages(fetch, self.page_size)
            for rows in pages:
                yield Chunk.from_records(rows, cursor_field=cursor, columns=self.columns)
            if expected is not None:
                if len(received) < expected:
                    raise SourceError(f"{self.spec.label}: {api.client.base_url}{self.path} counts {expected} rows "
                                      f"(count(*)) but only {len(received)} distinct rows arrived; nothing of this "
                                      "load is committed")
                if not cursor:
                    state.source_count = expected

    def _count(self, api: JsonApi, where: str | None) -> int | None:
        """The portal's own count of the rows this load should see, or None when it offers none."""
        params = {"$select": "count(*)"}
        if where:
            params["$where"] = where
        try:
            data = api.get(self.path, params).data
        except SourceError as exc:
            log.info("%s: no count(*) from the portal (%s); reading without a source count", self.spec.label, exc)
            return None
        try:
            (row,) = data
            (value,) = row.values()
            return int(value)
        except (TypeError, ValueError, AttributeError):
            log.info("%s: count(*) answered %r; reading without a source count", self.spec.label, str(data)[:100])
            return None


def _offset_pages(fetch, page_size: int) -> Iterator[list[dict]]:
    """A full snapshot in ``:id`` order."""
    page = 1
    while True:
        rows = fetch(None, page)
        if rows:
            yield rows
        if len(rows) < page_size:
            return
        page += 1
