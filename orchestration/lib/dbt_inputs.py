"""What a `dbt build` reads, and so what a daily run must rebuild: nothing, the part downstream of what landed, or all.

The marts are a function of the landed batches (the landing ledger, which gets a line only when a load commits
something new), the dbt project (its manifest and dbt_project.yml: models, macros, seeds, tests, vars) and the
build's --vars (reprocessing window) and as-of date. The last *successful* build records all three; a daily run
compares against that record:

* nothing changed: building again would write the same tables, so the dbt step yields no model and Dagster skips
  every step downstream of it (mart GX suites, quality scores, metrics, publish);
* the ledger only grew (and at most the as-of date moved): only the models and dbt tests downstream of the
  sources that received a batch (plus, when the as-of date moved, of the quarantine models whose "not in the
  future" rule now lets a row through, `as_of_readers_changed`) are built; every other model would rebuild to
  the same content, so it is not run (`selection` below);
* anything else (no record, ledger rewritten, project edited, reprocess window, `--full-refresh`): all of it.

Fail closed: the record is removed before a build starts and written only after it succeeded, so an
interrupted or failed build, a missing work database or any input it cannot account for means a full
`dbt build` next time. On PostgreSQL the record is kept in the warehouse database (citystat_state.records),
so a new or dropped database builds in full. A selective build there is closed downstream (every model that
reads a rebuilt one is rebuilt too), so dbt-postgres replacing a relation and dropping the old one with
`cascade` never leaves a dependent view missing.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb

from citystat.landing import LEDGER_NAME
from citystat.postgres_warehouse import configured_url
from citystat.settings import landing_dir
from citystat.warehouse import has_table, open_file, quote_identifier, quote_table, work_db_path
from orchestration.lib import records

RECORD_SUFFIX = ".dbt-inputs.json"
RECORD_NAME = "dbt_inputs"  # on PostgreSQL: the record's name in citystat_state.records
# The one macro through which a model reads the as-of date (the "not in the future" quarantine rule).
AS_OF_MACRO = "macro.citystat.as_of_limit"
# The quarantine rule that calls it, `rule_not_future('<column>')`: rows dated on or after the day after as-of.
FUTURE_RULE_MACRO = "macro.citystat.rule_not_future"
FUTURE_RULE_CALL = re.compile(r"""rule_not_future\(\s*['"]([A-Za-z_][A-Za-z0-9_]*)['"]\s*\)""")
# Resource types a `dbt build` runs; each is either built (selected) or excluded on a selective build.
BUILT_TYPES = ("model", "seed", "snapshot", "test")
# Metadata of a model a selective daily build left out: reported (so the steps after dbt run), not rebuilt.
UNCHANGED = "citystat/unchanged"


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


# What a `dbt parse` writes anew each time without any change to the project: the run's metadata (invocation id,
# generated_at) and each node's parse time. Left out of the manifest's fingerprint, so a parse alone (make install,
# a test, the UI) does not make the next run rebuild everything.
_PARSE_STAMPS = ("created_at",)


def _without_parse_stamps(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _without_parse_stamps(v) for k, v in value.items() if k not in _PARSE_STAMPS}
    if isinstance(value, list):
        return [_without_parse_stamps(v) for v in value]
    return value


def manifest_sha256(manifest: Mapping[str, Any]) -> str:
    """The manifest's content (models, macros, seeds, tests, their checksums and config) without its parse stamps."""
    content = {key: value for key, value in manifest.items() if key != "metadata"}
    canonical = json.dumps(_without_parse_stamps(content), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def _ledger_lines() -> list[bytes] | None:
    path = landing_dir() / LEDGER_NAME
    return path.read_bytes().splitlines(keepends=True) if path.exists() else None


def fingerprint(manifest: Mapping[str, Any], project_file: Path, args: list[str],
                variables: Mapping[str, str] | None = None) -> dict[str, Any]:
    """What a build reads: the ledger, the manifest (loaded once by the caller, which also selects from it), the
    project's dbt_project.yml, the args and --vars."""
    lines = _ledger_lines()
    return {
        "ledger_sha256": None if lines is None else hashlib.sha256(b"".join(lines)).hexdigest(),
        "ledger_lines": None if lines is None else len(lines),
        "manifest_sha256": manifest_sha256(manifest),
        "project_sha256": _file_sha256(Path(project_file)),
        "args": json.dumps(args),
        "vars": dict(variables or {}),
    }


def _recorded() -> dict | None:
    return records.recorded(RECORD_NAME, record_path())


def unchanged_since_last_build(current: dict) -> bool:
    """True when the last successful build read exactly these inputs and its work database is still there."""
    return current["ledger_sha256"] is not None and _recorded() == current


def _same_project(record: Mapping[str, Any], current: Mapping[str, Any]) -> bool:
    return (record.get("manifest_sha256"), record.get("project_sha256")) == (current["manifest_sha256"], current["project_sha256"])


def project_changed(current: dict) -> bool:
    """The dbt project (models, macros, tests, the inventory's sources) differs from the last successful build's.
    Incremental models keep the rows the old SQL built; a changed column stops them (on_schema_change: fail), a
    changed rule does not, so the run says so."""
    record = _recorded()
    return record is not None and not _same_project(record, current)


@dataclass(frozen=True)
class Selection:
    """A selective daily build: the dbt nodes to build and why (the sources that landed, the as-of date)."""
    unique_ids: frozenset[str]
    sources: tuple[str, ...]
    as_of_moved: bool

    def exclude_args(self, manifest: Mapping[str, Any]) -> list[str]:
        """`--exclude` of every buildable node not selected, by its full fqn (names alone can collide).

        dagster-dbt always selects the whole project (`fqn:*`) when the whole asset runs and unions a runtime
        `--select` with it, so a selective build is expressed as what to leave out."""
        left_out = sorted(
            "fqn:" + ".".join(node["fqn"])
            for uid, node in manifest["nodes"].items()
            if node["resource_type"] in BUILT_TYPES and uid not in self.unique_ids
        )
        # Unit tests check the SQL, not the data: the manifest is unchanged, so they would pass as they did.
        # One space-separated value: dagster-dbt reads one value per --exclude flag.
        return ["--exclude", " ".join([*left_out, "resource_type:unit_test"])]


def selection(manifest: Mapping[str, Any], current: dict) -> Selection | None:
    """The nodes a daily build must run given what changed since the last successful build, or None for all.

    Only when the record shows the same project, the same --vars but the as-of date, and a ledger that only
    grew: then the new ledger lines name the sources that changed, and the build is their descendants."""
    record = _recorded()
    if record is None or current["ledger_lines"] is None or not record.get("ledger_lines"):
        return None
    if not _same_project(record, current):
        return None
    recorded_vars, current_vars = dict(record.get("vars") or {}), dict(current["vars"])
    if any(key.startswith("window_") for key in current_vars) or set(recorded_vars) != set(current_vars):
        return None
    old_as_of, new_as_of = recorded_vars.pop("as_of", None), current_vars.pop("as_of", None)
    as_of_moved = old_as_of != new_as_of
    if recorded_vars != current_vars:
        return None
    lines = _ledger_lines()
    count = record["ledger_lines"]
    if lines is None or len(lines) < count or hashlib.sha256(b"".join(lines[:count])).hexdigest() != record.get("ledger_sha256"):
        return None  # the ledger was rewritten or truncated, not appended to: nothing is known
    landed = _landed_sources(lines[count:])
    if landed is None:
        return None
    roots = {uid for uid in (f"source.citystat.{system}.{dataset}" for system, dataset in landed) if uid in manifest["sources"]}
    if as_of_moved:
        roots |= as_of_readers_changed(manifest, old_as_of, new_as_of)
    return Selection(frozenset(descendants(manifest, roots)), tuple(sorted(".".join(s) for s in landed)), as_of_moved)


def _landed_sources(new_lines: Iterable[bytes]) -> set[tuple[str, str]] | None:
    landed: set[tuple[str, str]] = set()
    for line in new_lines:
        if not line.strip():
            continue
        try:
            entry = json.loads(line)
            landed.add((str(entry["system"]), str(entry["dataset"])))
        except (ValueError, KeyError, TypeError):
            return None  # a line it cannot read: it cannot tell what changed
    return landed


def macros_reading_as_of(manifest: Mapping[str, Any]) -> set[str]:
    """Macros that read the as-of date, themselves or through the macros they call."""
    macros = manifest["macros"]
    reads: dict[str, bool] = {}

    def macro_reads(name: str, seen: set[str]) -> bool:
        if name == AS_OF_MACRO:
            return True
        if name in reads:
            return reads[name]
        if name in seen or name not in macros:
            return False
        seen.add(name)
        reads[name] = any(macro_reads(m, seen) for m in macros[name].get("depends_on", {}).get("macros", []))
        return reads[name]

    return {name for name in [*macros, AS_OF_MACRO] if macro_reads(name, set())}


def nodes_reading_as_of(manifest: Mapping[str, Any]) -> set[str]:
    """Nodes whose SQL reads the as-of date, through the macros they call (transitively)."""
    readers = macros_reading_as_of(manifest)
    return {uid for uid, node in manifest["nodes"].items()
            if readers & set(node.get("depends_on", {}).get("macros", [])) or "as_of" in (node.get("raw_code") or "")}


def as_of_readers_changed(manifest: Mapping[str, Any], old: str | None, new: str | None) -> set[str]:
    """The nodes reading the as-of date whose content can differ now that it moved from `old` to `new`.

    Moving forward only lets rows out of the "not in the future" quarantine (a limit that grows quarantines no
    row it passed before), so a quarantine model changes only if it holds a `future_date` row whose offending
    column lies before the new limit; its rows of newly landed batches are covered by their source. Every reader
    the check cannot account for counts as changed: a date moved back or unreadable, the PostgreSQL warehouse,
    a missing table, a node that reads the as-of date otherwise than through that rule."""
    readers = nodes_reading_as_of(manifest)
    try:
        limit = dt.date.fromisoformat(str(new)) + dt.timedelta(days=1)
        forward = dt.date.fromisoformat(str(old)) <= dt.date.fromisoformat(str(new))
    except ValueError:
        return readers
    if not forward or configured_url() or not work_db_path().exists():
        return readers
    reading_macros = macros_reading_as_of(manifest)
    try:
        con = open_file(work_db_path())
    except duckdb.Error:
        return readers
    try:
        return {uid for uid in readers if not _releases_no_row(con, manifest["nodes"][uid], reading_macros, limit)}
    except duckdb.Error:
        return readers
    finally:
        con.close()


def _releases_no_row(con: duckdb.DuckDBPyConnection, node: Mapping[str, Any], reading_macros: set[str],
                     limit: dt.date) -> bool:
    """True when `node` is a quarantine table whose only use of the as-of date is `rule_not_future`, and none of
    its `future_date` rows was quarantined for a column that now lies before `limit` (the new as-of + 1 day)."""
    code = node.get("raw_code") or ""
    columns = FUTURE_RULE_CALL.findall(code)
    uses = reading_macros & set(node.get("depends_on", {}).get("macros", []))
    if node.get("resource_type") != "model" or not columns or uses != {FUTURE_RULE_MACRO} or "as_of" in code:
        return False
    table = f"{node['schema']}.{node.get('alias') or node['name']}"
    if not has_table(con, table):
        return False
    # The reason names the column that quarantined the row ("<column> <value> is after the as-of date").
    released = " or ".join(f"(_quarantine_reason like ? and {quote_identifier(column)} < ?)" for column in columns)
    params = [value for column in columns for value in (column + " %", limit)]
    rows = con.execute(f"select count(*) from {quote_table(table)} where _quarantine_rule = 'future_date' and ({released})",
                       params).fetchall()
    return rows[0][0] == 0


def descendants(manifest: Mapping[str, Any], roots: set[str]) -> set[str]:
    """The roots and everything downstream of them in the manifest's child map (models and their tests)."""
    children = manifest["child_map"]
    found, stack = set(), list(roots)
    while stack:
        uid = stack.pop()
        if uid in found:
            continue
        found.add(uid)
        stack.extend(children.get(uid, ()))
    return found


def forget() -> None:
    """Before a build: until it succeeds, nothing is known to be up to date."""
    records.remember(RECORD_NAME, record_path(), None)
    record_path().unlink(missing_ok=True)


def remember(current: dict) -> None:
    records.remember(RECORD_NAME, record_path(), current)
