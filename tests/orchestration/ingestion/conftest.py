"""Shared fixtures for the ingestion tests: a real scale-0.1 demo city, fast retry settings, helpers."""
from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import pytest

from demo_city.generator import generate
from citystat.connectors import ConnectorOptions, RetryPolicy
from citystat.landing import Landing

AS_OF = dt.date(2026, 10, 31)


@pytest.fixture(scope="session")
def generated_city(tmp_path_factory) -> Path:
    """The whole demo city at scale 0.1, generated once; copy it before changing anything."""
    out = tmp_path_factory.mktemp("demo_city") / "city"
    generate(out, seed=42, scale=0.1, as_of=AS_OF, clean=False)
    return out


@pytest.fixture
def city(generated_city, tmp_path) -> Path:
    """A private copy of the demo city that a test may change."""
    copy = tmp_path / "city"
    shutil.copytree(generated_city, copy)
    return copy


@pytest.fixture
def landing(tmp_path) -> Landing:
    return Landing(tmp_path / "warehouse" / "landing")


@pytest.fixture
def fast() -> ConnectorOptions:
    """Quick retries and small pages, so paging and retry paths run in well under a second."""
    return ConnectorOptions(retry=RetryPolicy(attempts=3, initial_wait=0.01, max_wait=0.05), http_timeout=2.0,
                            page_size=250, chunk_rows=1000, sqlite_busy_timeout=0.05)
