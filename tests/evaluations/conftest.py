"""One tiny demo city (scale 0.05, seed 42) per session, its 311 requests as marts.fct_service_requests built in the
test (no pipeline run), and the shipped evaluations registry."""
from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from eval_helpers import AS_OF, build_requests_mart, generate_city, ground_truth  # noqa: E402,F401


@pytest.fixture(scope="session")
def tiny_city(tmp_path_factory) -> Path:
    return generate_city(tmp_path_factory.mktemp("eval_city") / "city", scale=0.05)


@pytest.fixture(scope="session")
def truth(tiny_city) -> dict:
    return ground_truth(tiny_city)


@pytest.fixture()
def warehouse(tiny_city, tmp_path):
    con = build_requests_mart(tiny_city, tmp_path / "work.duckdb")
    yield con
    con.close()


@pytest.fixture(scope="session")
def registry():
    from citystat.evaluations.registry import load_registry

    return {e.evaluation_id: e for e in load_registry()}
