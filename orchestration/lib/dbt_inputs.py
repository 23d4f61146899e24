"""What a `dbt build` reads, as one fingerprint: a daily run whose inputs did not change skips dbt and all below it.

The marts are a function of the landed batches (the landing ledger, which gets a line only when a load commits
something new), the dbt project (its manifest: models, macros, seeds, tests) and the build's --vars (as-of date,
reprocessing window). When all three equal what the last *successful* build recorded, building again would
write the same tables, so the dbt step yields no model: Dagster then skips the steps downstream of it (mart GX
suites, quality scores, metrics, publish) and the run's event log shows none of them ran.

Fail closed: the record is removed before a build starts and written only after it succeeded, so an
interrupted or failed build, a missing work database or any changed input means a full `dbt build` next time.
"""
from __future__ import annotations

import hashlib
import json
from pathlib import Path

from citystat.landing import LEDGER_NAME
from citystat.settings import landing_dir
from citystat.warehouse import work_db_path

RECORD_SUFFIX = ".dbt-inputs.json"


def record_path() -> Path:
    """Beside the work database, so a warehouse restored or deleted without it never looks up to date."""
    work = work_db_path()
    return work.with_name(work.name + RECORD_SUFFIX)


def _file_sha256(path: Path) -> str | None:
    if not path.exists():
        return None
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def fingerprint(manifest_path: Path, args: list[str]) -> dict[str, str | None]:
    return {
        "ledger_sha256": _file_sha256(landing_dir() / LEDGER_NAME),
        "manifest_sha256": _file_sha256(Path(manifest_path)),
        "args": json.dumps(args),
    }


def unchanged_since_last_build(current: dict) -> bool:
    """True when the last successful build read exactly these inputs and its work database is still there."""
    if not work_db_path().exists() or current["ledger_sha256"] is None:
        return False
    try:
        return json.loads(record_path().read_text(encoding="utf-8")) == current
    except (OSError, ValueError):
        return False


def forget() -> None:
    """Before a build: until it succeeds, nothing is known to be up to date."""
    record_path().unlink(missing_ok=True)


def remember(current: dict) -> None:
    path = record_path()
    temporary = path.with_name(path.name + ".tmp")
    temporary.write_text(json.dumps(current, indent=2), encoding="utf-8")
    temporary.replace(path)
