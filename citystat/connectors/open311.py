"""Open311 GeoReport v2 (311 CRMs): ``services.json`` as a snapshot, ``requests.json`` incrementally.

Configured from the inventory entry: ``location`` is the GeoReport base URL (e.g.
``http://host/open311/v2``), ``source_object`` the endpoint (``requests`` or ``services``),
``cursor_field`` (normally ``updated_datetime``) makes ``requests`` incremental through the common
``updated_after`` extension (inclusive) with ``page``/``page_size`` paging, in the
``updated_datetime, service_request_id`` order the API guarantees.
"""
from __future__ import annotations

from typing import Iterator

from citystat.connectors.base import Chunk, SourceError, SourceSpec, SourceState
from citystat.connectors.http import JsonApi
from citystat.connectors.paging import keyset_pages
from citystat.connectors.retry import RetryPolicy

ID_FIELD = "service_request_id"


class Open311Connector:
    def __init__(self, spec: SourceSpec, *, policy: RetryPolicy, timeout: float, page_size: int = 1000,
                 request_deadline: float | None = None, asset_deadline: float | None = None):
        self.spec, self.policy, self.timeout, self.page_size = spec, policy, timeout, page_size
        self.request_deadline, self.asset_deadline = request_deadline, asset_deadline
        self.endpoint = spec.source_object.removesuffix(".json").strip("/")

    def extract(self, state: SourceState) -> Iterator[Chunk]:
        with JsonApi(self.spec, self.spec.location, policy=self.policy, timeout=self.timeout,
                     request_deadline=self.request_deadline, asset_deadline=self.asset_deadline) as api:
            if self.spec.cursor_field:
                yield from self._incremental(api, state)
            else:
                yield from self._all_pages(api)

    def _fetch(self, api: JsonApi, params: dict) -> list[dict]:
        data = api.get(f"{self.endpoint}.json", params).data
        if not isinstance(data, list) or not all(isinstance(row, dict) for row in data):
            raise SourceError(f"{self.spec.label}: {api.client.base_url}{self.endpoint}.json did not return a JSON array of objects")
        return data

    def _chunk(self, rows: list[dict]) -> Chunk:
        return Chunk.from_records(rows, cursor_field=self.spec.cursor_field)

    def _incremental(self, api: JsonApi, state: SourceState) -> Iterator[Chunk]:
        def fetch(after: str | None, page: int) -> list[dict]:
            params = {"page": page, "page_size": self.page_size}
            if after is not None:
                params["updated_after"] = after
            return self._fetch(api, params)

        id_field = self.spec.primary_key[0] if len(self.spec.primary_key) == 1 else ID_FIELD
        for rows in keyset_pages(fetch, watermark=state.watermark, cursor_field=self.spec.cursor_field,
                                 id_field=id_field, page_size=self.page_size):
            yield self._chunk(rows)

    def _all_pages(self, api: JsonApi) -> Iterator[Chunk]:
        if self.endpoint != "requests":  # services.json and other lists come whole
            yield self._chunk(self._fetch(api, {}))
            return
        page = 1
        while True:
            rows = self._fetch(api, {"page": page, "page_size": self.page_size})
            if rows:
                yield self._chunk(rows)
            if len(rows) < self.page_size:
                return
            page += 1
