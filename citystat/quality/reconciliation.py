"""Reconciliation: every landed row is accounted for, per batch.

dbt staging keeps the latest version of each record; rows breaking a hard rule go to
``quality.quarantine_<system>__<dataset>`` with the rule and the reason (dbt_project/macros/versions.sql).
So, for every batch of the load ledger:

    source rows = raw rows = staged rows + quarantined rows + superseded versions

where the source rows are the source's own count recorded in the ledger when the batch landed (file
drops: a strict, independent reading of every file that accounts for each physical line; SODA and SQL
snapshots: the source's ``count(*)``), the raw rows those in the batch's Parquet files,
and a superseded version is a landed row whose key has a newer version in the base model (staged or
quarantined). A batch with no source count says why instead of claiming one (``NO_SOURCE_COUNT``): Open311
GeoReport v2 offers no count at all, so for it the check proves landed = staged + quarantined + superseded only,
and completeness at the source rests on paging to a short page. A row that is none of these was dropped silently: the check fails and names it. A row both
staged and quarantined fails it too. Rows are matched on their landing identity
(``_load_id``, ``_source_file``, ``_row_number``), keys typed as staging types them.
"""
from __future__ import annotations

import datetime as dt
import decimal
import re
from contextlib import contextmanager
from dataclasses import dataclass, field

import duckdb

from data_inventory import DatasetRef
from citystat.landing import Landing
from citystat.quality.landed import batch_files, connect, field_sql, present_columns, text_sql, typed_sql
from citystat.warehouse import is_duckdb, quote_identifier, quote_literal, quote_table, read

# Primary-key fields staging stores under another name/type: field -> SQL over the base model's row.
STAGED_KEY_EXPRESSIONS = {
    ("hs_centres", "centre_monthly"): {"month": "strftime(month_start, '%Y-%m')"},
    ("perf_office", "kpi_submissions"): {"period": "strftime(period_month, '%Y-%m')"},
    ("omb_reference", "peer_city_spending"): {"function": "function_code"},
    ("crm311", "services"): {"service_code": "service_code"},
}
# ... and the landed side of the same comparison where staging normalises the value
LANDED_KEY_EXPRESSIONS = {
    ("crm311", "services"): {"service_code": f"upper({text_sql('service_code')})"},
    ("omb_reference", "peer_city_spending"): {"function": f"lower({text_sql('function')})"},
}


OPEN311_NO_COUNT = "Open311 GeoReport v2 offers no count; completeness rests on paging to a short page"


def no_source_count(entry: dict) -> str:
    """Why a ledger batch records no source count (said in place of one, never a count of 0)."""
    connector = entry.get("connector") or "this"
    if connector == "open311":
        return OPEN311_NO_COUNT
    if entry.get("kind") == "incremental":
        return f"{connector} incremental load: its count(*) was checked when it landed, not recorded"
    return f"the {connector} source answered no count"


def model_names(ref: DatasetRef) -> dict[str, str]:
    name = f"{ref.system.id}__{ref.dataset.id}"
    return {"staged": f"staging.stg_{name}", "base": f"staging.base_{name}", "quarantine": f"quality.quarantine_{name}"}


@dataclass
class BatchReconciliation:
    load_id: str
    raw: int
    staged: int
    quarantined: int
    superseded: int
    unexplained: int
    both: int
    examples: list[str] = field(default_factory=list)

    @property
    def holds(self) -> bool:
        return self.unexplained == 0 and self.both == 0 and self.raw == self.staged + self.quarantined + self.superseded


@dataclass
class Reconciliation:
    dataset: str
    batches: list[BatchReconciliation]
    ledger_rows: dict[str, int]
    source_rows: dict[str, int] = field(default_factory=dict)  # load_id -> the source's own count, where recorded
    uncounted: dict[str, str] = field(default_factory=dict)  # load_id -> why the batch has no source count

    @property
    def source_mismatches(self) -> list[str]:
        """Batches whose landed rows differ from the source's own count (rows lost or invented on the way in)."""
        counted = {b.load_id: b.raw for b in self.batches}
        return [load_id for load_id, rows in self.source_rows.items()
                if rows != self.ledger_rows.get(load_id) or rows != counted.get(load_id, 0)]

    @property
    def missing_batches(self) -> list[str]:
        """Ledger batches with rows whose files yield a different row count (a lost or truncated part)."""
        counted = {b.load_id: b.raw for b in self.batches}
        return [load_id for load_id, rows in self.ledger_rows.items() if rows and counted.get(load_id, 0) != rows]

    @property
    def holds(self) -> bool:
        return all(b.holds for b in self.batches) and not self.missing_batches and not self.source_mismatches

    def totals(self) -> dict[str, int]:
        keys = ("raw", "staged", "quarantined", "superseded", "unexplained", "both")
        totals = {k: sum(getattr(b, k) for b in self.batches) for k in keys}
        if self.source_rows:  # no count is never reported as a count of 0
            totals["source"] = sum(self.source_rows.values())
        totals["source_counted_batches"] = len(self.source_rows)
        totals["uncounted_batches"] = len(self.uncounted)
        return totals

    def describe(self) -> str:
        t = self.totals()
        source = ""
        if self.source_rows:
            counted = sum(b.raw for b in self.batches if b.load_id in self.source_rows)
            whole = " (every batch)" if len(self.source_rows) == len(self.ledger_rows) else f" ({len(self.source_rows)} batch(es) with a source count)"
            source = f"source {t['source']} = landed {counted}{whole}; "
        if self.uncounted:
            reasons = sorted(set(self.uncounted.values()))
            source += (f"no source count for {len(self.uncounted)} batch(es) ({'; '.join(reasons[:3])}"
                       f"{'; ...' if len(reasons) > 3 else ''}); ")
        head = (f"{self.dataset}: {len(self.batches)} batch(es), {source}raw {t['raw']} = staged {t['staged']} + quarantined "
                f"{t['quarantined']} + superseded {t['superseded']}")
        if self.holds:
            return head + " (holds for every batch)"
        bad = [b for b in self.batches if not b.holds]
        lines = [head.replace(" = ", " vs ") + f"; DOES NOT HOLD for {len(bad)} batch(es)"]
        for b in bad[:10]:
            lines.append(f"  {b.load_id}: raw {b.raw}, staged {b.staged}, quarantined {b.quarantined}, superseded {b.superseded}, "
                         f"unexplained {b.unexplained}, staged and quarantined {b.both}; e.g. {', '.join(b.examples) or '-'}")
        for load_id in self.missing_batches:
            lines.append(f"  {load_id}: the ledger records {self.ledger_rows[load_id]} rows but its files hold a different count")
        counted = {b.load_id: b.raw for b in self.batches}
        for load_id in self.source_mismatches:
            lines.append(f"  {load_id}: the source counted {self.source_rows[load_id]} rows, the ledger records "
                         f"{self.ledger_rows.get(load_id)}, its files hold {counted.get(load_id, 0)}")
        return "\n".join(lines)


def _entity_key_expressions(ref: DatasetRef) -> tuple[dict[str, str], dict[str, str]]:
    """For generated staging (`implements: {entity, columns}`): a key field is stored under its canonical column, and
    the entity's key is prefixed with the system id (macros/entities.sql). Returns (landed, staged) expressions."""
    implements = ref.dataset.implements or {}
    if not implements.get("columns"):
        return {}, {}
    from data_inventory.entities import load_entities

    entity = load_entities()[implements["entity"]]
    fields = {f.name: f for f in ref.dataset.fields}
    landed, staged = {}, {}
    for column, field in implements["columns"].items():
        if field not in ref.dataset.primary_key:
            continue
        staged[field] = quote_identifier(column)
        if column == entity.key:
            landed[field] = f"{quote_literal(ref.system.id + ':')} || cast({field_sql(fields[field])} AS varchar)"
    return landed, staged


def _base_keys(ref: DatasetRef) -> list[str]:
    """The primary key as SQL over the base model's row, one expression per key field."""
    staged_overrides = {**_entity_key_expressions(ref)[1], **STAGED_KEY_EXPRESSIONS.get(ref.key, {})}
    return [staged_overrides.get(k, k) for k in ref.dataset.primary_key]


def reconcile(ref: DatasetRef, landing: Landing, con: duckdb.DuckDBPyConnection) -> Reconciliation:
    """Account for every landed row of ``ref`` in the working warehouse ``con`` (read only): DuckDB, or PostgreSQL
    through SQLAlchemy (staging's identities mirrored into an in-memory DuckDB, the query unchanged)."""
    entries = landing.entries(*ref.key)
    ledger_rows = {e["load_id"]: int(e.get("rows") or 0) for e in entries}
    source_rows = {e["load_id"]: int(e["source_rows"]) for e in entries if e.get("source_rows") is not None}
    uncounted = {e["load_id"]: no_source_count(e) for e in entries
                 if e.get("source_rows") is None and int(e.get("rows") or 0)}
    files = batch_files(landing, *ref.key)
    if not files:
        return Reconciliation(ref.name, [], ledger_rows, source_rows, uncounted)
    names = model_names(ref)
    if not is_duckdb(con):  # PostgreSQL: the same query, in DuckDB, on what staging holds there
        with _staging_mirror(con, names, _base_keys(ref)) as local:
            return reconcile(ref, landing, local)
    types = {f.name: f.type for f in ref.dataset.fields}
    present = present_columns(con, files)
    landed_overrides = {**_entity_key_expressions(ref)[0], **LANDED_KEY_EXPRESSIONS.get(ref.key, {})}
    pk = list(ref.dataset.primary_key)
    raw_keys = [landed_overrides.get(k) or (typed_sql(k, types[k]) if k in present else "NULL") for k in pk]
    base_keys = _base_keys(ref)
    key_match = " AND ".join(f"b.k{i} = r.k{i}" for i in range(len(pk)))
    source = f"read_parquet({[str(f) for f in files]!r}, union_by_name = true)"
    same_row = "{a}._load_id = {b}._load_id AND {a}._row_number = {b}._row_number AND {a}._source_file IS NOT DISTINCT FROM {b}._source_file"
    sql = f"""
    WITH raw AS (
        SELECT cast(_load_id AS varchar) AS _load_id, {text_sql('_source_file') if '_source_file' in present else 'NULL'} AS _source_file,
               cast(_row_number AS bigint) AS _row_number, {', '.join(f'{e} AS k{i}' for i, e in enumerate(raw_keys))},
               concat_ws('@', {', '.join(f'cast({e} AS varchar)' for e in raw_keys)}) AS record
        FROM {source}
    ),
    staged AS (SELECT DISTINCT _load_id, _source_file, _row_number FROM {names['staged']}),
    quarantined AS (SELECT DISTINCT _load_id, _source_file, _row_number FROM {names['quarantine']}),
    base_keys AS (SELECT DISTINCT {', '.join(f'{e} AS k{i}' for i, e in enumerate(base_keys))} FROM {names['base']}),
    classified AS (
        SELECT r._load_id, r.record,
               s._row_number IS NOT NULL AS is_staged,
               q._row_number IS NOT NULL AS is_quarantined,
               EXISTS (SELECT 1 FROM base_keys b WHERE {key_match}) AS key_kept
        FROM raw r
        LEFT JOIN staged s ON {same_row.format(a='s', b='r')}
        LEFT JOIN quarantined q ON {same_row.format(a='q', b='r')}
    )
    SELECT _load_id, count(*) AS raw,
           count(*) FILTER (is_staged AND NOT is_quarantined) AS staged,
           count(*) FILTER (is_quarantined AND NOT is_staged) AS quarantined,
           count(*) FILTER (NOT is_staged AND NOT is_quarantined AND key_kept) AS superseded,
           count(*) FILTER (NOT is_staged AND NOT is_quarantined AND NOT key_kept) AS unexplained,
           count(*) FILTER (is_staged AND is_quarantined) AS both_,
           list(record ORDER BY record) FILTER ((NOT is_staged AND NOT is_quarantined AND NOT key_kept) OR (is_staged AND is_quarantined))[1:5] AS examples
    FROM classified GROUP BY _load_id ORDER BY _load_id
    """
    batches = [BatchReconciliation(load_id, raw, staged, quarantined, superseded, unexplained, both, list(examples or []))
               for load_id, raw, staged, quarantined, superseded, unexplained, both, examples in con.execute(sql).fetchall()]
    return Reconciliation(ref.name, batches, ledger_rows, source_rows, uncounted)


_IDENTITY = ("_load_id", "_source_file", "_row_number")
_TOKEN = re.compile(r'"((?:[^"]|"")+)"|([A-Za-z_][A-Za-z0-9_]*)')


@contextmanager
def _staging_mirror(con, names: dict[str, str], base_keys: list[str]):
    """An in-memory DuckDB holding, under the same names, what the reconciliation reads of the warehouse on
    PostgreSQL (SQLAlchemy ``con``): the staged and quarantined rows' landing identity and the base model's key
    columns, typed as PostgreSQL types them. The landed side is the batches' Parquet, as on DuckDB: the query is
    one, and it also accounts for the loader's COPY of the landing."""
    local = connect()
    try:
        mentioned = {quoted.replace('""', '"') if quoted else bare for quoted, bare in _TOKEN.findall(" ".join(base_keys))}
        for kind, wanted in (("staged", set(_IDENTITY)), ("quarantine", set(_IDENTITY)), ("base", mentioned)):
            qualified = names[kind]
            types = _duckdb_types(con, qualified)
            columns = [c for c in types if c in wanted]
            select = ", ".join(quote_identifier(c) for c in columns)
            frame = read(con, f"SELECT {'DISTINCT ' if kind != 'base' else ''}{select} FROM {quote_table(qualified)}")
            schema = qualified.partition(".")[0]
            local.execute(f"CREATE SCHEMA IF NOT EXISTS {quote_identifier(schema)}")
            local.register("_mirrored", frame)
            local.execute(f"CREATE TABLE {quote_table(qualified)} AS SELECT "
                          + ", ".join(f"CAST({quote_identifier(c)} AS {types[c]}) AS {quote_identifier(c)}" for c in columns)
                          + " FROM _mirrored")
            local.unregister("_mirrored")
        yield local
    finally:
        local.close()


def _duckdb_types(con, qualified: str) -> dict[str, str]:
    """Column -> the DuckDB type holding its PostgreSQL values (by the Python type psycopg returns)."""
    from sqlalchemy import inspect

    schema, _, table = qualified.partition(".")
    kinds = {str: "VARCHAR", int: "BIGINT", float: "DOUBLE", bool: "BOOLEAN", dt.date: "DATE", dt.datetime: "TIMESTAMP"}
    types = {}
    for column in inspect(con).get_columns(table, schema=schema):
        try:
            python = column["type"].python_type
        except NotImplementedError:
            python = str
        types[column["name"]] = "DOUBLE" if python is decimal.Decimal else kinds.get(python, "VARCHAR")
    return types
