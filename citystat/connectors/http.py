"""JSON over HTTP for the API connectors: httpx with timeouts, retries on transient failures, clear errors.

Deadlines: httpx's timeouts bound each socket operation, so a server dripping one byte every few seconds
never trips them. Every request therefore also has a total deadline (``request_deadline``: headers and
the whole body), and every extraction one for all its requests and retries (``asset_deadline``); the
error names the URL, the attempts and the time spent. A base URL that ran out of time (no answer, not an
HTTP error) is not tried again by the next assets of the same run for ``UNRESPONSIVE_SECONDS``: three
datasets of one dead portal cost one deadline, not three.
"""
from __future__ import annotations

import threading
import time
from typing import Any, NamedTuple
from urllib.parse import unquote

import httpx

from citystat.connectors.base import SourceError, SourceSpec, SourceUnavailable
from citystat.connectors.retry import RetryPolicy, call_with_retries


class TransientHttpStatus(Exception):
    """5xx or 429: the server is struggling; worth another try."""

    def __init__(self, response: httpx.Response):
        self.response = response
        super().__init__(f"HTTP {response.status_code} {response.reason_phrase}: {_snippet(response)}")


class RequestDeadline(Exception):
    """The whole answer (headers and body) did not arrive within the request's total deadline."""

    def __init__(self, seconds: float, received: int):
        self.seconds, self.received = seconds, received
        super().__init__(f"no complete answer within the {seconds:g} s request deadline ({received} bytes received)")


class AssetDeadline(Exception):
    """The extraction's total deadline passed: no further request starts."""


def is_transient(exc: BaseException) -> bool:
    return isinstance(exc, (TransientHttpStatus, RequestDeadline, httpx.TimeoutException, httpx.TransportError))


def describe(exc: BaseException) -> str:
    if isinstance(exc, RequestDeadline):
        return str(exc)
    if isinstance(exc, httpx.TimeoutException):
        return f"timed out ({type(exc).__name__})"
    if isinstance(exc, httpx.TransportError):
        return f"cannot reach the server ({type(exc).__name__}: {exc})"
    return str(exc)


UNRESPONSIVE_SECONDS = 300.0
_unresponsive: dict[str, tuple[float, str]] = {}  # base URL -> (monotonic time it failed, why); this process only
_unresponsive_lock = threading.Lock()


def _timed_out(exc: BaseException | None) -> bool:
    return isinstance(exc, (RequestDeadline, httpx.TimeoutException))


class JsonReply(NamedTuple):
    data: Any
    headers: httpx.Headers


class JsonApi:
    """GETs JSON from one API base URL for one inventory dataset."""

    def __init__(self, spec: SourceSpec, base_url: str, *, policy: RetryPolicy, timeout: float,
                 request_deadline: float | None = None, asset_deadline: float | None = None):
        self.spec, self.policy = spec, policy
        self.base_url = base_url.rstrip("/")
        self.request_deadline = request_deadline if request_deadline is not None else max(timeout * 2, timeout + 5)
        self.started = time.monotonic()
        self.deadline_at = self.started + asset_deadline if asset_deadline is not None else None
        self.asset_deadline = asset_deadline
        # no single socket wait outlives the request deadline either (the worker thread ends with it)
        self.client = httpx.Client(
            base_url=base_url.rstrip("/") + "/",
            timeout=min(timeout, self.request_deadline),
            headers={"Accept": "application/json", "User-Agent": "CityStat ingestion"},
        )

    def _send(self, request: httpx.Request) -> httpx.Response:
        """Send and read the whole answer within the request deadline (and what is left of the asset's)."""
        seconds = self.request_deadline
        if self.deadline_at is not None:
            seconds = min(seconds, self.deadline_at - time.monotonic())
            if seconds <= 0:
                raise AssetDeadline(f"the {self.asset_deadline:g} s deadline of this extraction has passed")
        box: dict[str, Any] = {"received": 0}

        def work():
            try:
                response = self.client.send(request, stream=True)
                box["response"] = response
                chunks = []
                for chunk in response.iter_bytes():
                    chunks.append(chunk)
                    box["received"] += len(chunk)
                response._content = b"".join(chunks)  # what .read() would set: .json()/.text work as usual
                response.close()
                box["done"] = True
            except BaseException as exc:  # handed to the caller
                box["error"] = exc

        worker = threading.Thread(target=work, name=f"GET {request.url.path}", daemon=True)
        worker.start()
        worker.join(seconds)
        if worker.is_alive():  # the worker ends on its own socket timeout; its answer is discarded
            response = box.get("response")
            if response is not None:
                try:
                    response.close()
                except Exception:  # closing from another thread is best effort
                    pass
            raise RequestDeadline(seconds, box["received"])
        if "error" in box:
            raise box["error"]
        return box["response"]

    def get(self, path: str, params: dict[str, Any] | None = None) -> JsonReply:
        request = self.client.build_request("GET", path.lstrip("/"), params=params)

        def once():
            response = self._send(request)
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

        where = f"GET {unquote(str(request.url))}"
        with _unresponsive_lock:
            failed = _unresponsive.get(self.base_url)
        if failed and time.monotonic() - failed[0] < UNRESPONSIVE_SECONDS:
            raise SourceUnavailable(self.spec, where, 0, f"not attempted: {self.base_url} gave no answer in time "
                                    f"{time.monotonic() - failed[0]:.0f} s ago in this run ({failed[1]})", 0.0)
        try:
            return call_with_retries(
                once, policy=self.policy, is_transient=is_transient, describe=describe,
                spec=self.spec, where=where, deadline=self.deadline_at,
            )
        except AssetDeadline as exc:  # a long but working extraction: the portal itself is not marked unresponsive
            raise SourceUnavailable(self.spec, where, 0, str(exc), time.monotonic() - self.started) from exc
        except SourceUnavailable as exc:
            if _timed_out(exc.__cause__):
                self._mark_unresponsive(f"{exc.attempts} attempt(s): {exc.last_error}")
            raise

    def _mark_unresponsive(self, why: str) -> None:
        with _unresponsive_lock:
            _unresponsive[self.base_url] = (time.monotonic(), why)

    def close(self) -> None:
        self.client.close()

    def __enter__(self) -> "JsonApi":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def _snippet(response: httpx.Response, limit: int = 300) -> str:
    text = response.text.strip().replace("\n", " ")
    return text[:limit] + ("…" if len(text) > limit else "")
