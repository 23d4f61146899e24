"""Records a run keeps about the warehouse it built (what dbt read, what a metric read): a JSON object per name,
kept beside the work database, or in the PostgreSQL warehouse itself (citystat_state.records), so a warehouse that
is deleted, restored or new forgets them and the work is done again."""
from __future__ import annotations

import json
from pathlib import Path

from citystat.postgres_warehouse import configured_url, read_record, write_record
from citystat.release_folders import write_whole
from citystat.warehouse import work_db_path


def recorded(name: str, path: Path, database: Path | None = None) -> dict | None:
    """The record `name` (on DuckDB its file `path`, kept beside `database`, default the work database), or None when
    there is none, it cannot be read or the database is gone."""
    if url := configured_url():
        text = read_record(url, name)
    elif not (database or work_db_path()).exists():
        return None
    else:
        try:
            text = path.read_text(encoding="utf-8")
        except OSError:
            return None
    try:
        record = json.loads(text) if text is not None else None
    except ValueError:
        return None
    return record if isinstance(record, dict) else None


def remember(name: str, path: Path, record: dict | None) -> None:
    """Keep `record` (None: remove it) in one step: a reader sees the old record, the new one or none."""
    if url := configured_url():
        write_record(url, name, None if record is None else json.dumps(record))
        return
    if record is None:
        path.unlink(missing_ok=True)
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    write_whole(path, json.dumps(record, indent=2))
