"""The latest outcome of every quality check, kept as JSON under ``<warehouse>/quality/results`` where the
dataset scores (and people) read it, and which landed batches a suite has already validated."""
from __future__ import annotations

import json
from pathlib import Path

from citystat.release_folders import write_whole
from citystat.settings import warehouse_dir

RESULTS_DIR = ("quality", "results")  # latest outcome per dataset/mart, read by the dataset scores


def results_dir() -> Path:
    return warehouse_dir().joinpath(*RESULTS_DIR)


def record_outcome(name: str, summary: dict) -> Path:
    """Keep the latest outcome of a suite where the dataset scores (and people) can read it."""
    directory = results_dir()
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{name}.json"
    write_whole(path, json.dumps(summary, indent=1, default=str))
    return path


def validated_batches(suite_name: str) -> set[str]:
    path = results_dir() / f"{suite_name}.json"
    return set(json.loads(path.read_text(encoding="utf-8")).get("validated_load_ids", [])) if path.exists() else set()


def unvalidated_batches(ref: DatasetRef, landing, suite_name: str) -> list[str]:
    """Batches in the ledger the suite has not seen: the one this run landed, and any an earlier run left
    unchecked (a raw step that failed after landing its good files, a check that never ran)."""
    done = validated_batches(suite_name)
    return [e["load_id"] for e in landing.entries(*ref.key) if e["load_id"] not in done]
