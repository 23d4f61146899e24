"""A manual submission: checked against the KPI registry before it is saved, then written as a one-row file into the
KPI submissions drop folder, so it reaches the warehouse by the route every submitted value takes (landing,
staging's quarantine, the registry check in metrics.kpi_submission_problems)."""
from __future__ import annotations

import csv
import datetime as dt
import os
import tempfile
import uuid
from pathlib import Path

import pandas as pd

from citystat.kpi.submissions import SUBMISSION_COLUMNS, check_submissions
from citystat.settings import as_of
from data_inventory import load_inventory
from workbench.snapshot import registry

DROP_COLUMNS = ["kpi_id", "department_code", "period", "value", "numerator", "denominator", "submitted_by",
                "submitted_at", "notes"]  # the inventory's fields of perf_office.kpi_submissions


def drop_folder() -> Path:
    inventory = load_inventory()
    return Path(inventory.resolve_location(inventory.get("perf_office", "kpi_submissions")))


def problems(row: dict) -> list[tuple[str, str]]:
    """(field, problem) pairs the registry finds in one submission (units, ranges, the KPI's department, the
    period); empty when it can be saved."""
    frame = pd.DataFrame([{**{c: None for c in SUBMISSION_COLUMNS}, **row, "source_file": "form", "source_line": None}])
    checked = check_submissions(frame[SUBMISSION_COLUMNS], registry(), as_of())
    return [(p.field or "", p.message) for p in checked.problems]


def notes(data_source: str, note: str, correction_reason: str) -> str:
    parts = [f"source: {data_source}"] + ([note] if note else []) + ([f"correction: {correction_reason}"] if correction_reason else [])
    return "; ".join(parts)


def write_drop_file(submission) -> Path:
    """The one-row CSV of a submission, written whole (temporary file, then rename) so the drop-folder sensor never
    lands half a file; returns its path (its name is in ``submission.drop_file``)."""
    folder = drop_folder()
    folder.mkdir(parents=True, exist_ok=True)
    name = submission.drop_file
    row = [submission.kpi_id, submission.department_code, submission.period, repr(float(submission.value)),
           "" if submission.numerator is None else repr(float(submission.numerator)),
           "" if submission.denominator is None else repr(float(submission.denominator)),
           submission.submitted_by, city_time(submission.submitted_at),
           notes(submission.data_source, submission.note, submission.correction_reason)]
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=".workbench-", suffix=".tmp")
    with os.fdopen(fd, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(DROP_COLUMNS)
        writer.writerow(row)
    os.replace(tmp, folder / name)
    return folder / name


def city_time(at: dt.datetime) -> str:
    """An aware moment as the drop file's submitted_at: naive city time, as the CSV template is filled."""
    from django.utils import timezone

    return timezone.localtime(at).strftime("%Y-%m-%d %H:%M:%S")


def drop_file_name(at: dt.datetime) -> str:
    return f"kpi_submissions_workbench_{at:%Y%m%d%H%M%S}_{uuid.uuid4().hex[:8]}.csv"  # UTC: sorts in order
