"""One Starlette app serving both simulated HTTP systems, and the ways to run it.

``build_app(data, faults=None)`` assembles Open311 (``/open311/v2/...``), SODA (``/resource/...``),
``/health`` and fault injection (see ``faults.py``). ``serve`` runs it in the foreground (the
CLI); ``serve_in_thread`` runs it on a free loopback port for tests and yields its base URL.
"""
from __future__ import annotations

import os
import socket
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import uvicorn
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from demo_city.servers.faults import Fault, FaultInjection, parse_faults
from demo_city.servers.open311 import CRM_STORE, Open311Api
from demo_city.servers.soda import PORTAL_STORE, SodaApi

FAULTS_ENV = "CITYSTAT_DEMO_FAULTS"


async def health(request: Request) -> JSONResponse:
    return JSONResponse({"status": "ok"})


async def http_error(request: Request, exc: HTTPException) -> JSONResponse:
    """Routing errors (404, 405) as JSON too, so every answer from the demo city is machine-readable."""
    code = "not_found" if exc.status_code == 404 else "method_not_allowed"
    message = f"{exc.detail}: {request.method} {request.url.path}"
    return JSONResponse({"error": True, "code": code, "message": message}, status_code=exc.status_code, headers=exc.headers)


def build_app(data: Path, faults: str | dict | None = None) -> Starlette:
    """The demo city's HTTP face over the generated city in ``data``."""
    data = Path(data)
    missing = [str(data / p) for p in (CRM_STORE, PORTAL_STORE) if not (data / p).is_file()]
    if missing:
        raise FileNotFoundError(f"not a generated demo city (run `citystat demo-city generate --out {data}`): missing {', '.join(missing)}")
    live_faults = parse_faults(faults)
    app = Starlette(
        routes=[Route("/health", health), *Open311Api(data).routes(), *SodaApi(data).routes()],
        middleware=[Middleware(FaultInjection, faults=live_faults)],
        exception_handlers={HTTPException: http_error},
    )
    app.state.faults = live_faults
    return app


def serve(data: Path, host: str = "127.0.0.1", port: int = 8311) -> None:
    """Serve in the foreground until interrupted; faults come from ``CITYSTAT_DEMO_FAULTS``."""
    app = build_app(data, faults=os.environ.get(FAULTS_ENV))
    base = f"http://{host}:{port}"
    print(f"Open311: {base}/open311/v2/requests.json   SODA: {base}/resource/ctrc-9p3m.json   faults: {app.state.faults or 'none'}")
    uvicorn.run(app, host=host, port=port)


@dataclass
class RunningServer:
    url: str  # base URL, e.g. http://127.0.0.1:53211
    faults: dict[str, Fault]  # live: change it to inject or clear faults while running


@contextmanager
def serve_in_thread(data: Path, faults: str | dict | None = None, host: str = "127.0.0.1"):
    """Run the app on a free port in a background thread for the duration of the ``with`` block."""
    app = build_app(data, faults)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, 0))  # bound before the thread starts: no race for the port
    config = uvicorn.Config(app, log_level="warning", access_log=False, timeout_graceful_shutdown=1)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, name="demo-city-server", daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("demo city server did not start")
        time.sleep(0.01)
    try:
        yield RunningServer(url=f"http://{host}:{sock.getsockname()[1]}", faults=app.state.faults)
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()
