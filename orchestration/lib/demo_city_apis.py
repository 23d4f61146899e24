"""The demo city's HTTP systems, served for the length of one landing step when a run needs them.

When an API source (Open311, SODA) has no URL configured in its environment variable and the data folder is a
generated demo city, the raw asset starts the demo city's server on a free loopback port in a child process
and reads from it. So a run from the UI, the schedule or `citystat run` reaches Riverton with no manual step;
a real city sets the URL and this never runs. The server is a separate process (`python -m demo_city.cli
serve`): the pipeline never imports the demo city.
"""
from __future__ import annotations

import dataclasses
import os
import socket
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator
from urllib.parse import urlsplit, urlunsplit

import httpx

from citystat.connectors import SourceError, SourceSpec
from citystat.settings import AS_OF_FILE, project_root
from data_inventory import DatasetRef

HTTP_CONNECTORS = ("open311", "soda")
START_TIMEOUT_SECONDS = 30


def needs_demo_server(ref: DatasetRef, data_dir: Path) -> bool:
    """An HTTP source with no URL in its environment, reading from a generated demo city."""
    location = ref.dataset.location
    configured = bool(location and location.env and os.environ.get(location.env))
    return ref.dataset.connector in HTTP_CONNECTORS and not configured and (data_dir / AS_OF_FILE).is_file()


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def demo_server(data_dir: Path, log_path: Path) -> Iterator[str]:
    """Serve the demo city in a child process; yields its base URL (http://127.0.0.1:PORT)."""
    port = _free_port()
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with open(log_path, "ab") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "demo_city.cli", "serve", "--data", str(data_dir), "--port", str(port)],
            cwd=project_root(), stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
        )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + START_TIMEOUT_SECONDS
        while True:
            if process.poll() is not None:
                raise SourceError(f"the demo city's server stopped at start (exit {process.returncode}); see {log_path}")
            try:
                if httpx.get(f"{base}/health", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise SourceError(f"the demo city's server did not answer within {START_TIMEOUT_SECONDS} s; see {log_path}")
            time.sleep(0.2)
        yield base
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def served_spec(spec: SourceSpec, base: str) -> SourceSpec:
    """The spec with its default URL's host and port replaced by the served demo city's (path kept)."""
    parts, served = urlsplit(spec.location), urlsplit(base)
    return dataclasses.replace(spec, location=urlunsplit((served.scheme, served.netloc, parts.path, parts.query, parts.fragment)))
