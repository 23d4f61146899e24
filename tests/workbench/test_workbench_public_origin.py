"""Served for other machines behind an HTTPS reverse proxy ($CITYSTAT_WORKBENCH_ORIGIN): `citystat workbench serve`
answers that host only, tells browsers to use HTTPS (HSTS) on requests the proxy marks https, and refuses a sign-in
form posted from another origin; a malformed origin stops the command with one line."""
import os
import re
import subprocess

import httpx
import pytest

from workbench_helpers import PASSWORD, ROOT, WORKBENCH_CLI, create_users, serving

ORIGIN = "https://workbench.riverton.example"
PROXIED = {"Host": "workbench.riverton.example", "X-Forwarded-Proto": "https"}


@pytest.mark.timeout(180)
def test_served_behind_an_https_proxy(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CITYSTAT_", "DAGSTER_"))}
    env.update(CITYSTAT_WORKBENCH_DB=str(tmp_path / "wb.sqlite3"), CITYSTAT_WAREHOUSE_DIR=str(tmp_path / "wh"),
               CITYSTAT_WORKBENCH_ORIGIN=ORIGIN)
    create_users(env, ("olivia", "office", ""))
    with serving(env, tmp_path / "serve.log") as base:
        page = httpx.get(f"{base}/login/", headers=PROXIED)
        assert page.status_code == 200
        assert page.headers["strict-transport-security"] == "max-age=31536000"
        assert httpx.get(f"{base}/login/", headers={"Host": "evil.example"}).status_code == 400
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text).group(1)
        cookie = f"csrftoken={page.cookies['csrftoken']}"  # Secure: httpx would not send it back over http itself

        def sign_in(origin: str) -> httpx.Response:
            return httpx.post(f"{base}/login/", headers={**PROXIED, "Origin": origin, "Referer": f"{origin}/login/",
                                                         "Cookie": cookie},
                              data={"username": "olivia", "password": PASSWORD, "csrfmiddlewaretoken": token})

        assert sign_in("https://evil.example").status_code == 403
        signed_in = sign_in(ORIGIN)
        assert signed_in.status_code == 302 and signed_in.headers["location"] == "/"

    env["CITYSTAT_WORKBENCH_ORIGIN"] = "http://workbench.riverton.example"  # not https
    refused = subprocess.run([*WORKBENCH_CLI, "migrate"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert refused.returncode == 1 and "Traceback" not in refused.stderr
    assert refused.stderr.strip() == ("error: $CITYSTAT_WORKBENCH_ORIGIN must be an https origin like "
                                      "https://workbench.city.gov")
