"""The demo city's planted rollouts: deterministic by seed, kept by --clean, unchanged by `advance`, and the data
really carry the planted effect (treated pothole requests closed sooner by exactly one day each)."""
from __future__ import annotations

import datetime as dt
import json
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from eval_helpers import ROOT, generate_city

CITYSTAT = str(Path(sys.executable).with_name("citystat"))


def _truth_text(city: Path) -> dict:
    return json.loads((city / "evaluations.json").read_text())


@pytest.mark.timeout(300)
def test_clean_keeps_the_rollouts(tiny_city, tmp_path):
    clean = generate_city(tmp_path / "clean", scale=0.05, clean=True)
    assert _truth_text(clean) == _truth_text(tiny_city)
    assert json.loads((clean / "generation.json").read_text())["clean"] is True


@pytest.mark.timeout(300)
def test_advance_keeps_the_rollouts_consistent(tiny_city, tmp_path):
    city = tmp_path / "advanced"
    subprocess.run([CITYSTAT, "demo-city", "generate", "--out", str(city), "--scale", "0.05", "--as-of", "2026-10-01"],
                   check=True, cwd=ROOT, capture_output=True)
    subprocess.run([CITYSTAT, "demo-city", "advance", "--data", str(city), "--days", "30"], check=True, cwd=ROOT,
                   capture_output=True)
    assert _truth_text(city) == _truth_text(tiny_city)
    query = ("select service_request_id, zipcode, requested_datetime, closed_datetime from requests "
             "where service_code = 'POTHOLE' and requested_datetime between '2025-11-03' and '2026-04-20' order by 1")
    with sqlite3.connect(city / "crm311" / "crm.sqlite") as a, sqlite3.connect(tiny_city / "crm311" / "crm.sqlite") as b:
        assert a.execute(query).fetchall() == b.execute(query).fetchall()


@pytest.mark.timeout(120)
def test_the_planted_effect_is_in_the_data(tiny_city, truth):
    """Each moved request closed exactly one day sooner than it would have: its time of day is unchanged, so crews
    still close it during their shift, and the treated arm's mean is lower by about the true effect."""
    planted = truth["pothole_triage"]
    treated = set(planted["treated_units"])
    start = dt.date.fromisoformat(planted["start"])
    with sqlite3.connect(tiny_city / "crm311" / "crm.sqlite") as con:
        rows = con.execute("select zipcode, requested_datetime, closed_datetime from requests where service_code = 'POTHOLE' "
                           "and requested_datetime >= ? and requested_datetime < ?",
                           [planted["start"], (dt.date.fromisoformat(planted["end"]) + dt.timedelta(days=1)).isoformat()]).fetchall()
    arms = {"t": 0, "c": 0}
    for zipcode, requested, _ in rows:
        week = (dt.date.fromisoformat(requested[:10]) - start).days // 7
        arms["t" if f"{zipcode}:{week}" in treated else "c"] += 1
    assert arms == {"t": planted["requests_treated"], "c": planted["requests_control"]}
    assert planted["requests_moved"] > 0 and planted["true_effect_days"] == pytest.approx(
        -planted["requests_moved"] / planted["requests_treated"], abs=1e-6)
