"""A source that cannot be reached, through the real `citystat run` console: one line per failed landing step naming
the dataset, the URL, the attempts and the time spent (not the library's bare "Connection refused"), each step
counted once (the run's own failure does not count as one more), exit 1."""
from __future__ import annotations

import re
import socket

import pytest

from pipeline_helpers import citystat, pipeline_env


@pytest.mark.timeout(600)
def test_an_unreachable_portal_is_named_by_dataset_url_attempts_and_time(tmp_path):
    env = pipeline_env(tmp_path)
    (tmp_path / "city").mkdir()
    with socket.socket() as sock:  # a port nobody listens on once closed: connections are refused
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    env["CITYSTAT_SODA_URL"] = f"http://127.0.0.1:{port}"
    run = citystat(env, "run", "--select", "key:raw/proc_portal/*", "--no-dashboards", check=False)
    flat = " ".join((run.stdout + run.stderr).split())
    assert run.returncode == 1, flat[-4000:]
    for dataset, resource in (("vendors", "vndr-2x7k"), ("contracts", "ctrc-9p3m"), ("contract_milestones", "mlst-4h8q")):
        line = re.search(rf"failed step raw__proc_portal__{dataset}: proc_portal\.{dataset}: GET "
                         rf"http://127\.0\.0\.1:{port}/resource/{resource}\.json\S* failed after (\d+) attempt\(s\): "
                         r"cannot reach the server \(ConnectError: [^)]*\) \(([\d.]+) s elapsed\)", flat)
        assert line and int(line.group(1)) == 4, flat[-4000:]  # the default retry policy: 4 attempts
    assert re.search(r"0/3 assets materialized, 3 failed steps, 0 failed ERROR checks", flat), flat[-4000:]
    assert "failed step run:" not in flat and "Traceback" not in flat, flat[-4000:]
