"""A source that cannot be reached, through the real `citystat run` console: one line per failed source naming the
dataset, the URL, the attempts and the time spent (not the library's bare "Connection refused"), exit 1; and only
that source fails: the other sources' new data is staged and published in the same run."""
from __future__ import annotations

import json
import re
import socket

import pytest

from pipeline_helpers import citystat, copy_of_pipeline, open_instance, pipeline_env


def refused_url() -> str:
    """A loopback URL nobody listens on (the port was free and is closed again): connections are refused."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{sock.getsockname()[1]}"


@pytest.mark.timeout(600)
def test_an_unreachable_portal_is_named_by_dataset_url_attempts_and_time(tmp_path):
    env = pipeline_env(tmp_path)
    (tmp_path / "city").mkdir()
    env["CITYSTAT_SODA_URL"] = url = refused_url()
    port = url.rsplit(":", 1)[1]
    run = citystat(env, "run", "--select", "key:raw/proc_portal/*", "--no-dashboards", check=False)
    flat = " ".join((run.stdout + run.stderr).split())
    assert run.returncode == 1, flat[-4000:]
    for dataset, resource in (("vendors", "vndr-2x7k"), ("contracts", "ctrc-9p3m"), ("contract_milestones", "mlst-4h8q")):
        line = re.search(rf"failed check \(ERROR\) raw/proc_portal/{dataset}:source_reachable: proc_portal\.{dataset}: GET "
                         rf"http://127\.0\.0\.1:{port}/resource/{resource}\.json\S* failed after (\d+) attempt\(s\): "
                         r"cannot reach the server \(ConnectError: [^)]*\) \(([\d.]+) s elapsed\)", flat)
        assert line and int(line.group(1)) == 4, flat[-4000:]  # the default retry policy: 4 attempts
    assert re.search(r"3/3 assets materialized, 0 failed steps, 3 failed ERROR checks", flat), flat[-4000:]
    assert not re.search(r"failed step \S+:", flat) and "Traceback" not in flat, flat[-4000:]


@pytest.mark.timeout(1200)
def test_a_dead_source_holds_back_no_other_source_from_the_snapshot(pipeline, tmp_path):
    """A day of new data in every system, the procurement portal down: the portal's three datasets land nothing
    and say so, every other system's new batches land, dbt builds them and the snapshot is published (exit 1)."""
    copy = tmp_path / "copy"
    env = copy_of_pipeline(pipeline.tmp, copy)
    ledger = copy / "warehouse" / "landing" / "_loads.jsonl"
    before = [json.loads(line) for line in ledger.read_text(encoding="utf-8").splitlines()]
    citystat(env, "demo-city", "advance", "--data", str(copy / "city"), "--days", "1")
    env["CITYSTAT_SODA_URL"] = refused_url()

    run = citystat(env, "run", "--no-dashboards", check=False)
    flat = " ".join((run.stdout + run.stderr).split())
    assert run.returncode == 1, flat[-4000:]
    assert re.search(r"\b0 failed steps\b", flat) and "Traceback" not in flat, flat[-4000:]
    for dataset in ("vendors", "contracts", "contract_milestones"):
        assert f"raw/proc_portal/{dataset}:source_reachable: proc_portal.{dataset}: GET" in flat, flat[-4000:]

    new = [json.loads(line) for line in ledger.read_text(encoding="utf-8").splitlines()][len(before):]
    assert not [e for e in new if e["system"] == "proc_portal"]
    assert any(e["system"] == "crm311" and e["rows"] > 0 for e in new), new  # the rest landed ...
    from dagster import AssetKey, DagsterEventType

    with open_instance(env) as instance:  # ... was built and published in this very run
        run_id = instance.get_run_records(limit=1)[0].dagster_run.run_id
        keys = {r.event_log_entry.dagster_event.asset_key for r in
                instance.get_records_for_run(run_id, of_type=DagsterEventType.ASSET_MATERIALIZATION).records}
    assert {AssetKey(["marts", "fct_service_requests"]), AssetKey(["publish", "snapshot"])} <= keys
