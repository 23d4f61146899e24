"""A real `dagster dev` (webserver + daemon) in a subprocess, for the automation and UI tests.

`DagsterDev` starts it in its own process group on a free loopback port with the test's DAGSTER_HOME, waits
until the code location `citystat` is LOADED (GraphQL `workspaceOrError`), answers GraphQL queries, and stops
the whole group (webserver, daemon, code server, run workers) on exit.
"""
from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DAGSTER = str(Path(sys.executable).with_name("dagster"))
LOCATION = "citystat"

WORKSPACE_QUERY = """
query { workspaceOrError { __typename ... on Workspace { locationEntries {
  name loadStatus locationOrLoadError { __typename ... on PythonError { message } } } } } }
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def write_instance_config(env: dict) -> None:
    """DAGSTER_HOME with the project's dagster.yaml (pools, run monitoring), as `make ui` prepares it."""
    subprocess.run([sys.executable, "-m", "orchestration.lib.instance"], cwd=ROOT, env=env, check=True,
                   capture_output=True, text=True, timeout=120)


class DagsterDev:
    def __init__(self, env: dict, log: Path, port: int | None = None):
        self.env, self.log_path, self.port = env, log, port or free_port()
        self.proc: subprocess.Popen | None = None
        self.started_at = 0.0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> "DagsterDev":
        write_instance_config(self.env)
        self.started_at = time.monotonic()
        self.proc = subprocess.Popen([DAGSTER, "dev", "-h", "127.0.0.1", "-p", str(self.port)], cwd=ROOT,
                                     env=self.env, stdout=open(self.log_path, "w"), stderr=subprocess.STDOUT,
                                     start_new_session=True)
        return self

    def log_tail(self, chars: int = 4000) -> str:
        return self.log_path.read_text(errors="replace")[-chars:] if self.log_path.exists() else ""

    def graphql(self, query: str, variables: dict | None = None, timeout: float = 30) -> dict:
        body = json.dumps({"query": query, "variables": variables or {}}).encode()
        request = urllib.request.Request(f"{self.url}/graphql", data=body, headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=timeout) as response:
            payload = json.loads(response.read())
        if payload.get("errors"):
            raise AssertionError(f"GraphQL errors: {payload['errors']}")
        return payload["data"]

    def location_status(self) -> str | None:
        """LOADED / LOADING / None (not answering yet); raises when the location failed to load."""
        try:
            with urllib.request.urlopen(f"{self.url}/server_info", timeout=5) as response:
                if response.status != 200:
                    return None
            data = self.graphql(WORKSPACE_QUERY, timeout=10)
        except (urllib.error.URLError, ConnectionError, TimeoutError, OSError):
            return None
        for entry in data["workspaceOrError"].get("locationEntries", []):
            if entry["name"] == LOCATION:
                error = entry.get("locationOrLoadError") or {}
                if error.get("__typename") == "PythonError":
                    raise AssertionError(f"code location failed to load: {error['message']}")
                return entry["loadStatus"]
        return None

    def wait_loaded(self, timeout: float = 180) -> float:
        """Seconds from process start until the location is LOADED."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc is not None and self.proc.poll() is not None:
                raise AssertionError(f"dagster dev exited {self.proc.returncode}:\n{self.log_tail()}")
            if self.location_status() == "LOADED":
                return time.monotonic() - self.started_at
            time.sleep(0.25)
        raise AssertionError(f"code location not loaded after {timeout} s:\n{self.log_tail()}")

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        pgid = os.getpgid(self.proc.pid)
        os.killpg(pgid, signal.SIGTERM)
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            pass
        try:  # whatever of the group is still alive (code server, run workers)
            os.killpg(pgid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.proc.wait(timeout=30)

    def __enter__(self) -> "DagsterDev":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()
