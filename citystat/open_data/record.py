"""What each open-data export was made of, so a build rewrites only the exports whose inputs changed.

An export's files are a function of the snapshot tables it reads (their columns, comments and rows: the snapshot's
own digest, citystat.publish.table_digest), its entry in open_data.yaml with k, its inventory dataset (access,
publication, fields), its privacy review item and the code that writes it (this package, the name redaction, the
scrubbing macros and the library versions that encode CSV and Parquet). A build compares that fingerprint with the
record of the last build; when it is equal and every file of the export in the current release still has the
checksum the record gives, the files are hard-linked into the new release (same bytes, same inode, no copy).
Anything else, `--full-refresh` included, writes the export again.

The record is written only after the new release is in place, in one rename. A build killed before that leaves the
previous record, which is still true: it names inputs and the checksums of the files they produced, and a file
that no longer has that checksum is never kept.
"""
from __future__ import annotations

import dataclasses
import hashlib
import json
import sys
from functools import cache
from importlib import metadata
from pathlib import Path

import duckdb

from citystat.publish import table_digest
from citystat.release_folders import link_or_copy, write_whole
from citystat.settings import project_root

RECORD_SUFFIX = ".exports.json"
# The code an export's bytes depend on, beyond this package: the free-text scrubber (macros + name list) and the
# libraries that encode the files.
CODE_FILES = ("citystat/personal_names.py", "dbt_project/macros/casting.sql", "dbt_project/macros/redaction.sql")
LIBRARIES = ("duckdb", "pandas", "pyarrow", "names")


def record_path(root: Path) -> Path:
    """Beside ``<root>`` (not inside a release: it is not for publication)."""
    return root.with_name(root.name + RECORD_SUFFIX)


def load(root: Path) -> dict[str, dict]:
    """export id -> {"fingerprint": ..., "result": ...} of the last finished build; {} when there is none."""
    try:
        exports = json.loads(record_path(root).read_text(encoding="utf-8"))["exports"]
    except (OSError, ValueError, KeyError, TypeError):
        return {}
    return exports if isinstance(exports, dict) else {}


def save(root: Path, exports: dict[str, dict]) -> None:
    # key order kept: a kept export's manifest entry must read exactly as a new build writes it
    write_whole(record_path(root), json.dumps({"exports": exports}, indent=1, default=str) + "\n")


@cache
def code_version() -> str:
    """SHA-256 of the open-data code, the scrubber and the versions of the libraries that write the files."""
    digest = hashlib.sha256()
    root = project_root()
    package = Path(__file__).parent
    files = sorted(package.glob("*.py")) + [root / name for name in CODE_FILES]
    for path in files:
        digest.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    for library in LIBRARIES:
        try:
            digest.update(f"{library}={metadata.version(library)}\0".encode())
        except metadata.PackageNotFoundError:
            digest.update(f"{library}=none\0".encode())
    digest.update(sys.version.encode())
    return digest.hexdigest()


class TableDigests:
    """Digests of the snapshot's tables, each computed once per build (a table can feed several exports)."""

    def __init__(self, con: duckdb.DuckDBPyConnection):
        self.con = con
        self.catalog = con.execute("SELECT current_database()").fetchone()[0]
        self.known: dict[str, str | None] = {}

    def __call__(self, table: str) -> str | None:
        """'schema.table' -> its digest; None when the snapshot has no such table (the export then fails as before)."""
        if table not in self.known:
            schema, _, name = table.partition(".")
            exists = self.con.execute("SELECT count(*) FROM duckdb_tables() WHERE database_name = ? AND schema_name = ? "
                                      "AND table_name = ?", [self.catalog, schema, name]).fetchone()[0]
            self.known[table] = _sha256(table_digest(self.con, self.catalog, schema, name)) if exists else None
        return self.known[table]


def fingerprint(tables: dict[str, str | None], **inputs) -> dict:
    """An export's inputs: the digests of the tables it reads plus its declaration, settings and the code version."""
    return {"tables": tables, "code": code_version(),
            **{name: _sha256(value) for name, value in inputs.items()}}


def dataset_entry(ref) -> dict:
    """The inventory entry an export of ``ref`` depends on (title, access, publication, fields and their sensitivity)."""
    return dataclasses.asdict(ref.dataset)


def sha256_file(path: Path) -> str:
    with open(path, "rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()


def intact(release: Path | None, result: dict) -> bool:
    """Every file the recorded ``result`` lists is in ``release`` (a plain file inside it) with its checksum."""
    files, checksums = result.get("files") or {}, result.get("checksums") or {}
    if set(files) != set(checksums):
        return False
    if not files:
        return True  # held or not public: nothing on disk to check
    if release is None:
        return False
    base = release.resolve()
    for kind, relative in files.items():
        path = release / relative
        if path.is_symlink() or not path.is_file() or base not in path.resolve().parents:
            return False
        if sha256_file(path) != checksums[kind]:
            return False
    return True


def carry_over(previous: Path, release: Path, result: dict) -> None:
    """Put a kept export's files into the new release: hard links (same bytes, no copy) where the file system allows."""
    for relative in result["files"].values():
        link_or_copy(previous / relative, release / relative)


def _sha256(value) -> str:
    return hashlib.sha256(json.dumps(value, sort_keys=True, default=str).encode()).hexdigest()
