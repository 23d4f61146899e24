"""Fixtures: the shipped inventory as plain data, and a way to write a mutated copy of it."""
from __future__ import annotations

import copy
from pathlib import Path

import pytest
import yaml

from data_inventory import DEFAULT_PATH


@pytest.fixture(scope="session")
def shipped_data() -> dict:
    return yaml.safe_load(DEFAULT_PATH.read_text(encoding="utf-8"))


@pytest.fixture
def inventory_copy(shipped_data, tmp_path):
    """`write(mutate)` applies `mutate` to a deep copy of the shipped inventory and writes it to tmp_path."""

    def write(mutate=None, name: str = "inventory.yaml") -> Path:
        data = copy.deepcopy(shipped_data)
        if mutate:
            mutate(data)
        path = tmp_path / name
        dumper = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
        path.write_text(yaml.dump(data, Dumper=dumper, sort_keys=False, allow_unicode=True), encoding="utf-8")
        return path

    return write
