"""Fault injection: make a simulated service fail on purpose, so connectors' retry and timeout paths get tested.

A fault applies to one service: ``open311`` (paths under ``/open311/``) or ``soda`` (paths under
``/resource/``); ``/health`` never fails. Spelled as a string (the same syntax in code and in the
``CITYSTAT_DEMO_FAULTS`` environment variable read by ``serve``)::

    500            every request answers HTTP 500
    503x3          the first 3 requests answer 503, then the service recovers
    sleep:5        every request waits 5 s before answering normally (past a client's timeout)
    sleep:5x2      only the first 2 requests wait

    CITYSTAT_DEMO_FAULTS="open311=500x3,soda=sleep:30"

The middleware reads the live ``faults`` mapping on every request, so a test may change
``app.state.faults`` while the server runs.
"""
from __future__ import annotations

import asyncio
import re
from dataclasses import dataclass

from starlette.responses import JSONResponse

SERVICE_PREFIXES = {"open311": "/open311/", "soda": "/resource/"}
_SPEC = re.compile(r"^(?:(?P<status>[45]\d\d)|sleep:(?P<delay>\d+(?:\.\d+)?))(?:x(?P<times>\d+))?$")


@dataclass
class Fault:
    status: int | None = None  # answer with this HTTP status instead of the real response
    delay_seconds: float = 0.0  # wait this long before answering
    times: int | None = None  # only the first N requests are faulted; None = all of them

    @classmethod
    def parse(cls, spec: str) -> "Fault":
        match = _SPEC.match(spec.strip())
        if not match:
            raise ValueError(f"fault {spec!r}: expected a 4xx/5xx status or sleep:SECONDS, optionally followed by xN")
        return cls(
            status=int(match["status"]) if match["status"] else None,
            delay_seconds=float(match["delay"] or 0),
            times=int(match["times"]) if match["times"] else None,
        )

    def take(self) -> bool:
        """Whether this request is faulted; counts down ``times``."""
        if self.times is None:
            return True
        if self.times <= 0:
            return False
        self.times -= 1
        return True


def parse_faults(faults: str | dict | None) -> dict[str, Fault]:
    """``"open311=500x3,soda=sleep:30"`` or ``{"open311": "500"}`` (values may be Faults) → {service: Fault}."""
    if not faults:
        return {}
    if isinstance(faults, str):
        pairs = []
        for entry in faults.split(","):
            service, sep, spec = entry.partition("=")
            if not sep:
                raise ValueError(f"fault entry {entry!r}: expected SERVICE=SPEC, e.g. open311=500")
            pairs.append((service.strip(), spec))
    else:
        pairs = list(faults.items())
    parsed = {}
    for service, spec in pairs:
        if service not in SERVICE_PREFIXES:
            raise ValueError(f"fault for unknown service {service!r}: expected one of {sorted(SERVICE_PREFIXES)}")
        parsed[service] = spec if isinstance(spec, Fault) else Fault.parse(spec)
    return parsed


class FaultInjection:
    """ASGI middleware applying ``faults`` (a live {service: Fault} mapping) before the real app."""

    def __init__(self, app, faults: dict[str, Fault]):
        self.app = app
        self.faults = faults

    async def __call__(self, scope, receive, send):
        if scope["type"] == "http":
            fault = next((self.faults.get(s) for s, p in SERVICE_PREFIXES.items() if scope["path"].startswith(p)), None)
            if fault is not None and fault.take():
                if fault.delay_seconds:
                    await asyncio.sleep(fault.delay_seconds)
                if fault.status:
                    body = {"error": True, "code": "injected_fault", "message": f"injected fault: HTTP {fault.status}"}
                    await JSONResponse(body, status_code=fault.status)(scope, receive, send)
                    return
        await self.app(scope, receive, send)

