"""Helpers of the workbench tests (a module with its own name: `from conftest import` picks whichever conftest
pytest loaded last when several folders are collected together)."""
import contextlib
import socket
import subprocess
import sys
import time
from pathlib import Path

PASSWORD = "correct-horse-battery-9"
ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]
WORKBENCH_CLI = [sys.executable, "-m", "citystat.cli", "workbench"]


PW_FLAG = "pw_potholes_within_sla_pct:2026-09:red"
FIRE_FLAG = "fire_turnout_p90_sec:2026-09:red"


def write_snapshot(path: Path) -> Path:
    """A published snapshot holding two open automated flags of 2026-09: PW_FLAG (Public Works), FIRE_FLAG (Fire)."""
    import datetime as dt

    import duckdb

    from citystat.kpi import flags as flag_engine

    con = duckdb.connect(str(path))
    flag_engine.ensure_schema(con)
    now = dt.datetime(2026, 10, 31, 8, 0)
    for kpi, dept in (("pw_potholes_within_sla_pct", "pw"), ("fire_turnout_p90_sec", "fire")):
        con.execute("""INSERT INTO metrics.flags (flag_id, kpi_id, kpi_name, department_code, period, kind, critical,
                       message, status, raised_at, updated_at, condition_present, last_evaluated_at)
                       VALUES (?, ?, ?, ?, '2026-09', 'red', true, ?, 'open', ?, ?, true, ?)""",
                    [f"{kpi}:2026-09:red", kpi, kpi, dept, f"{kpi} turned red in 2026-09", now, now, now])
    con.close()
    return path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def create_users(env: dict, *accounts: tuple[str, str, str]) -> None:
    """(name, role, department) accounts made by the real `citystat workbench create-user`; password PASSWORD."""
    env = {**env, "WB_PASSWORD": PASSWORD}
    for name, role, dept in accounts:
        made = subprocess.run([*WORKBENCH_CLI, "create-user", name, "--role", role, *(["-d", dept] if dept else []),
                               "--password-env", "WB_PASSWORD"], cwd=ROOT, env=env, capture_output=True, text=True,
                              timeout=120)
        assert made.returncode == 0, made.stderr


@contextlib.contextmanager
def serving(env: dict, log_path: Path):
    """`citystat workbench serve` on a free loopback port until the block ends; yields its base URL."""
    import httpx

    port = free_port()
    log = open(log_path, "w")
    server = subprocess.Popen([*WORKBENCH_CLI, "serve", "--port", str(port)], cwd=ROOT, env=env, stdout=log,
                              stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):
            assert server.poll() is None, log_path.read_text()
            try:
                if httpx.get(f"{base}/login/", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.1)
        yield base
    finally:
        server.terminate()
        server.wait(timeout=20)
        log.close()


def sign_in(page, base: str, name: str) -> None:
    page.goto(f"{base}/login/")
    page.fill("#id_username", name)
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}/")


def client_for(name: str, enforce_csrf: bool = False):
    from django.test import Client

    client = Client(enforce_csrf_checks=enforce_csrf)
    response = client.post("/login/", {"username": name, "password": PASSWORD})
    assert response.status_code == 302, response.content[:500]
    return client
