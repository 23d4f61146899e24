"""JSON over HTTP for the API connectors: httpx with timeouts, retries on transient failures, clear errors."""
from __future__ import annotations

from typing import Any, NamedTuple
from urllib.parse import unquote

import httpx

from citystat.connectors.base import SourceError, SourceSpec
from citystat.connectors.retry import RetryPolicy, call_with_retries


class TransientHttpStatus(Exception):
    """5xx or 429: the server is struggling; worth another try."""

    def __init__(self, response: httpx.Response):
        self.response = response
        super().__init__(f"HTTP {response.status_code} {response.reason_phrase}: {_snippet(response)}")


def is_transient(exc: BaseException) -> bool:
    return isinstance(exc, (TransientHttpStatus, httpx.TimeoutException, httpx.TransportError))


def describe(exc: BaseException) -> str:
    if isinstance(exc, httpx.TimeoutException):
        return f"timed out ({type(exc).__name__})"
    if isinstance(exc, httpx.TransportError):
        return f"cannot reach the server ({type(exc).__name__}: {exc})"
    return str(exc)


class JsonReply(NamedTuple):
    data: Any
    headers: httpx.Headers


class JsonApi:
    """GETs JSON from one API base URL for one inventory dataset."""

    def __init__(self, spec: SourceSpec, base_url: str, *, policy: RetryPolicy, timeout: float):
        self.spec, self.policy = spec, policy
        self.client = httpx.Client(
            base_url=base_url.rstrip("/") + "/",
            timeout=timeout,
            headers={"Accept": "application/json", "User-Agent": "CityStat ingestion"},
        )

    def get(self, path: str, params: dict[str, Any] | None = None) -> JsonReply:
        request = self.client.build_request("GET", path.lstrip("/"), params=params)

        def once():
            response = self.client.send(request)
            if response.status_code >= 500 or response.status_code == 429:
                raise TransientHttpStatus(response)
            if response.status_code >= 400:
                raise SourceError(
                    f"{self.spec.label}: GET {unquote(str(request.url))} was refused: HTTP {response.status_code}: {_snippet(response)}"
                )
            try:
                return JsonReply(response.json(), response.headers)
            except ValueError as exc:
                raise SourceError(f"{self.spec.label}: GET {unquote(str(request.url))} did not return JSON: {_snippet(response)}") from exc

        return call_with_retries(
            once, policy=self.policy, is_transient=is_transient, describe=describe,
            spec=self.spec, where=f"GET {unquote(str(request.url))}",
        )

    def close(self) -> None:
        self.client.close()

    def __enter__(self) -> "JsonApi":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def _snippet(response: httpx.Response, limit: int = 300) -> str:
    text = response.text.strip().replace("\n", " ")
    return text[:limit] + ("…" if len(text) > limit else "")
