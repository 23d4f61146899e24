"""When the as-of date moves forward a day, a daily build rebuilds a quarantine model only if its "not in the
future" rule now lets one of its rows through (orchestration/lib/dbt_inputs.py `as_of_readers_changed`).

A hand-built manifest (the two real macro names, one quarantine model with two `rule_not_future` columns) and a
real DuckDB work database holding that model's table; which rows are released is worked out by hand per case."""
from __future__ import annotations

import duckdb
import pytest

from orchestration.lib.dbt_inputs import as_of_readers_changed

QUARANTINE = "model.citystat.quarantine_crm__requests"
OTHER_READER = "model.citystat.int_open_backlog"
MANIFEST = {
    "macros": {
        "macro.citystat.as_of_limit": {"depends_on": {"macros": []}},
        "macro.citystat.rule_not_future": {"depends_on": {"macros": ["macro.citystat.as_of_limit"]}},
        "macro.citystat.quarantine_rows": {"depends_on": {"macros": []}},
    },
    "nodes": {
        QUARANTINE: {
            "resource_type": "model", "schema": "quality", "name": "quarantine_crm__requests", "alias": None,
            "raw_code": "{{ quarantine_rows('base_crm__requests', [rule_not_future('closed_at'), "
                        "rule_not_future(\"opened_at\")]) }}",
            "depends_on": {"macros": ["macro.citystat.quarantine_rows", "macro.citystat.rule_not_future"]}},
        "model.citystat.stg_crm__requests": {
            "resource_type": "model", "schema": "staging", "name": "stg_crm__requests", "alias": None,
            "raw_code": "select 1", "depends_on": {"macros": []}},
    },
}
# A model that mentions the as-of date in its own SQL: the check cannot judge it, so it always counts as changed.
WITH_OTHER_READER = {**MANIFEST, "nodes": {**MANIFEST["nodes"], OTHER_READER: {
    "resource_type": "model", "schema": "marts", "name": "int_open_backlog", "alias": None,
    "raw_code": "select * from x where opened_at <= '{{ var(\"as_of\") }}'", "depends_on": {"macros": []}}}}


@pytest.fixture
def work_db(tmp_path, monkeypatch):
    monkeypatch.setenv("CITYSTAT_WAREHOUSE_DIR", str(tmp_path))
    monkeypatch.delenv("CITYSTAT_WORK_DB", raising=False)
    monkeypatch.delenv("CITYSTAT_WAREHOUSE_POSTGRES_URL", raising=False)
    path = tmp_path / "work.duckdb"
    with duckdb.connect(str(path)) as con:
        con.execute("create schema quality")
        con.execute("create table quality.quarantine_crm__requests (id varchar, opened_at timestamp, closed_at timestamp, "
                    "_quarantine_rule varchar, _quarantine_reason varchar)")
        con.execute("insert into quality.quarantine_crm__requests values "
                    # planted far-future date: stays quarantined whatever day it is this decade
                    "('SR-1', '2026-10-01 08:00', '2035-01-05 07:00', 'future_date', "
                    "'closed_at 2035-01-05 07:00:00 is after the as-of date'), "
                    # another rule: the as-of date does not decide it
                    "('SR-2', '2026-10-02 08:00', '2026-11-01 09:00', 'orphan_key', 'service_code X has no match')")
    return path


def _add(path, *row):
    with duckdb.connect(str(path)) as con:
        con.execute("insert into quality.quarantine_crm__requests values (?, ?, ?, ?, ?)", list(row))


def test_a_day_forward_rebuilds_no_quarantine_whose_future_rows_stay_in_the_future(work_db):
    assert as_of_readers_changed(MANIFEST, "2026-10-31", "2026-11-01") == set()
    # Ten years on, SR-1's closed_at (2035-01-05) lies before the limit (as-of + 1 day): released, so rebuilt.
    assert as_of_readers_changed(MANIFEST, "2034-12-31", "2035-01-05") == {QUARANTINE}
    assert as_of_readers_changed(MANIFEST, "2034-12-31", "2035-01-04") == set()  # limit 2035-01-05 00:00 > 07:00


def test_a_row_dated_the_new_day_is_released_and_its_quarantine_rebuilt(work_db):
    # Quarantined yesterday (as-of 2026-10-31) because opened_at lay on 2026-11-01; today's limit is 2026-11-02.
    _add(work_db, "SR-3", "2026-11-01 10:00", None, "future_date", "opened_at 2026-11-01 10:00:00 is after the as-of date")
    assert as_of_readers_changed(MANIFEST, "2026-10-31", "2026-11-01") == {QUARANTINE}


def test_only_the_column_that_quarantined_a_row_decides(work_db):
    # closed_at is the first rule and still in the future: the row stays quarantined for the same reason, although
    # its opened_at (a later rule) now lies before the limit.
    _add(work_db, "SR-4", "2026-11-01 10:00", "2040-01-01 00:00", "future_date",
         "closed_at 2040-01-01 00:00:00 is after the as-of date")
    assert as_of_readers_changed(MANIFEST, "2026-10-31", "2026-11-01") == set()


def test_what_the_check_cannot_judge_counts_as_changed(work_db, monkeypatch):
    assert as_of_readers_changed(MANIFEST, "2026-11-01", "2026-10-31") == {QUARANTINE}  # moved back
    assert as_of_readers_changed(MANIFEST, None, "2026-11-01") == {QUARANTINE}  # no as-of before
    assert as_of_readers_changed(WITH_OTHER_READER, "2026-10-31", "2026-11-01") == {OTHER_READER}
    with duckdb.connect(str(work_db)) as con:
        con.execute("drop table quality.quarantine_crm__requests")
    assert as_of_readers_changed(MANIFEST, "2026-10-31", "2026-11-01") == {QUARANTINE}  # no table to read
    monkeypatch.setenv("CITYSTAT_WAREHOUSE_POSTGRES_URL", "postgresql://nobody@127.0.0.1:1/none")
    assert as_of_readers_changed(MANIFEST, "2026-10-31", "2026-11-01") == {QUARANTINE}
