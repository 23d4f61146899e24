"""Validate what landed (one dataset's new batches) or what dbt built (a key mart) with its GX suite.

Run-time parameters a suite names are resolved here:
  ``now``                             the batches' extraction time in city time (marts: the current time);
  ``keys__<system>__<dataset>__<f>``  the distinct values of field f across every landed batch of that dataset;
  ``pairs__<system>__<dataset>__<a>__<b>``  the distinct (a, b) pairs of that dataset.
"""
from __future__ import annotations

import datetime as dt
from pathlib import Path
from zoneinfo import ZoneInfo

import duckdb
import pandas as pd

from data_inventory import DatasetRef, Inventory
from citystat.landing import Landing
from citystat.quality import changed_rows, gx_runner, landed
from citystat.quality.suites import PARAMETER, Suite, SuiteError, all_suites, mart_suite_name, raw_suite_name
from citystat.warehouse import as_duckdb_dtypes, is_duckdb


def city_time(instant: dt.datetime) -> dt.datetime:
    """An aware instant as naive city wall-clock time (how the warehouse stores times)."""
    return instant.astimezone(ZoneInfo(landed.CITY_TIMEZONE)).replace(tzinfo=None)


def parse_utc(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text.replace("Z", "+00:00"))


def resolve_parameters(suite: Suite, landing: Landing, inventory: Inventory, now: dt.datetime,
                       con: duckdb.DuckDBPyConnection | None = None) -> dict:
    values: dict = {}
    for name in sorted(suite.parameters()):
        kind, _, rest = name.partition("__")
        parts = rest.split("__")
        if name == "now":
            values[name] = now
        elif kind in ("keys", "pairs") and len(parts) == (3 if kind == "keys" else 4):
            ref = inventory.get(parts[0], parts[1])
            if ref is None:
                raise SuiteError(f"{suite.path}: parameter {name} names no inventory dataset {parts[0]}.{parts[1]}")
            values[name] = landed.landed_values(landing, ref, parts[2:], con)
        else:
            raise SuiteError(f"{suite.path}: unknown parameter {name!r} (now | keys__<system>__<dataset>__<field> | "
                             "pairs__<system>__<dataset>__<a>__<b>)")
    return values


def reference_rules_in_duckdb(suite: Suite, ref: DatasetRef, landing: Landing, inventory: Inventory) -> Suite:
    """"Every key points at something that exists", resolved as a semi-join in DuckDB.

    A rule ``value_set: {"$PARAMETER": "keys__<system>__<dataset>__<field>"}`` keeps its meaning, but the
    parent's keys are not handed to GX as a list: GX copies and serialises its expectation configurations
    many times per run, so a set of 100k keys costs minutes. DuckDB marks each row instead
    (``<column>__known``: NULL when the column is empty) and GX checks that flag. A parent that has not
    landed yet leaves the rule out (it would flag every row)."""
    types = {f.name: f.type for f in ref.dataset.fields}
    expectations, derived = [], dict(suite.derived_columns)
    for e in suite.expectations:
        value_set = e["kwargs"].get("value_set")
        name = value_set.get(PARAMETER) if isinstance(value_set, dict) else None
        if not (e["type"] == "expect_column_values_to_be_in_set" and name and name.startswith("keys__")):
            expectations.append(e)
            continue
        system, dataset, field = name.split("__")[1:4]
        parent = inventory.get(system, dataset)
        if not landed.batch_files(landing, system, dataset):
            continue
        column = e["kwargs"]["column"]
        parent_type = {f.name: f.type for f in parent.dataset.fields}[field]
        child = landed.typed_sql(column, types[column])
        derived[f"{column}__known"] = (f"CASE WHEN {child} IS NULL THEN NULL ELSE {child} IN "
                                       f"(SELECT {landed.typed_sql(field, parent_type)} FROM {{landed:{system}.{dataset}}}) END")
        kwargs = {k: v for k, v in e["kwargs"].items() if k not in ("column", "value_set")}
        expectations.append({**e, "kwargs": {**kwargs, "column": f"{column}__known", "value_set": [True]},
                             "meta": {**e["meta"], "resolved_in_duckdb": name}})
    return Suite(suite.name, suite.path, tuple(expectations), {**suite.meta, "derived_columns": derived})


def raw_suite(ref: DatasetRef) -> Suite | None:
    return all_suites().get(raw_suite_name(*ref.key))


def validate_batches(ref: DatasetRef, landing: Landing, inventory: Inventory, load_ids: list[str] | None = None, *,
                     docs_dir: Path | None = None, chunk_rows: int = landed.CHUNK_ROWS) -> gx_runner.SuiteOutcome:
    """Validate the given batches of a dataset (default: every landed batch) with its raw suite."""
    suite = raw_suite(ref)
    if suite is None:
        raise SuiteError(f"no suite expectations/suites/{raw_suite_name(*ref.key)}.json (run `citystat generate`)")
    entries = [e for e in landing.entries(*ref.key) if load_ids is None or e["load_id"] in load_ids]
    files = landed.batch_files(landing, *ref.key, [e["load_id"] for e in entries])
    extracted = [parse_utc(e["extracted_at"]) for e in entries]
    now = city_time(max(extracted)) if extracted else city_time(dt.datetime.now(dt.timezone.utc))
    con = landed.connect()
    suite = reference_rules_in_duckdb(suite, ref, landing, inventory)
    parameters = resolve_parameters(suite, landing, inventory, now, con)
    unresolved = {name for name, value in parameters.items() if name.startswith(("keys__", "pairs__")) and not value}
    if unresolved:  # the parent has not landed yet: its key rules wait for it rather than flag every row
        suite = suite.without_parameters(unresolved)
        parameters = {k: v for k, v in parameters.items() if k not in unresolved}
    run_name = entries[-1]["load_id"] if len(entries) == 1 else f"{len(entries)}-batches-{entries[-1]['load_id']}" if entries else "empty"
    frames = landed.typed_frames(ref, suite, files, chunk_rows=chunk_rows, con=con, landing=landing)
    return gx_runner.validate(suite, frames, parameters, run_name=run_name, docs_dir=docs_dir,
                              shown_columns=public_columns(ref))


def public_columns(ref: DatasetRef) -> frozenset[str]:
    """The columns of a raw batch whose sample values Data Docs may show: the dataset's public fields (typed and
    as landed) and the record id; pii and sensitive fields show counts and record ids only."""
    public = {f.name for f in ref.dataset.fields if f.sensitivity == "public"}
    return frozenset(public | {name + landed.LANDED_SUFFIX for name in public} | {gx_runner.RECORD_ID})


def mart_public_columns(inventory: Inventory | None = None) -> frozenset[str]:
    """Mart columns named like an inventory field that is public wherever it occurs (free text such as
    ``description`` is sensitive somewhere, so it never shows)."""
    from data_inventory import load_inventory

    inventory = inventory or load_inventory()
    public, other = set(), set()
    for ref in inventory.datasets():
        for f in ref.dataset.fields:
            (public if f.sensitivity == "public" else other).add(f.name)
    return frozenset((public - other) | {gx_runner.RECORD_ID})


def mart_suite(model: str) -> Suite | None:
    return all_suites().get(mart_suite_name(model))


def validate_mart(model: str, con: duckdb.DuckDBPyConnection, *, now: dt.datetime | None = None,
                  docs_dir: Path | None = None, chunk_rows: int = landed.CHUNK_ROWS,
                  changed_only: bool = False) -> gx_runner.SuiteOutcome:
    """Validate a mart in the working warehouse: the suite's query, fetched in chunks of Arrow record batches.

    ``changed_only`` (the pipeline's daily check): validate only the rows that changed since they last passed,
    plus those a change can invalidate (citystat/quality/changed_rows.py); the outcome is the whole table's.
    Needs a writable connection: the rows that passed are remembered in the work database. DuckDB only: on
    PostgreSQL the whole table is validated."""
    suite = mart_suite(model)
    if suite is None or not suite.query:
        raise SuiteError(f"no mart suite with a query for {model} in expectations/suites/")
    now = now or city_time(dt.datetime.now(dt.timezone.utc))
    parameters = {"now": now} if "now" in suite.parameters() else {}
    rows = None
    if is_duckdb(con):
        con.execute("SET enable_progress_bar = false")
        rows = changed_rows.rows_to_check(con, model, suite) if changed_only else None
        reader = con.sql(rows.query if rows else suite.query).to_arrow_reader(chunk_rows)
        frames = (landed.vectorizable(batch.to_pandas(date_as_object=False)) for batch in reader)  # dates compare with `now`
    else:  # PostgreSQL through SQLAlchemy Core: the same query (portable SQL), in chunks; always the whole table
        from sqlalchemy import text

        frames = (landed.vectorizable(as_duckdb_dtypes(chunk))
                  for chunk in pd.read_sql_query(text(suite.query), con, chunksize=chunk_rows))
    run_name = f"{model}-{dt.datetime.now(dt.timezone.utc):%Y%m%dT%H%M%SZ}"
    outcome = gx_runner.validate(suite, frames, parameters, run_name=run_name, docs_dir=docs_dir,
                                 shown_columns=mart_public_columns())
    if rows:
        changed_rows.remember_passed(con, model, all_passed=not outcome.failed)
        outcome.table_rows, outcome.changed_rows, outcome.whole_table_because = rows.total, rows.changed, rows.why_whole
    return outcome
