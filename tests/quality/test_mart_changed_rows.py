"""A mart suite on a daily run checks the rows that changed since they last passed, and gets the whole table's answer.

A hand-built mart in a real DuckDB file and a hand-written suite run through the real GX runner.
"""
import json

import duckdb
import pytest

from citystat.quality import changed_rows, gx_runner
from citystat.quality.suites import load_suite

SUITE = {
    "name": "marts.fct_things",
    "meta": {"target": {"kind": "mart", "model": "fct_things"},
             "query": "select t.thing_id as _record_id, t.thing_id, t.code, t.score, d.code is not null as code_is_known "
                      "from marts.fct_things as t left join marts.dim_codes as d using (code)"},
    "expectations": [
        {"type": "expect_column_values_to_be_unique", "kwargs": {"column": "code"},
         "meta": {"severity": "error", "rule": "duplicate_row"}},
        {"type": "expect_column_values_to_be_between", "kwargs": {"column": "score", "min_value": 0, "max_value": 10},
         "meta": {"severity": "error", "rule": "out_of_range"}},
        {"type": "expect_column_values_to_be_in_set", "kwargs": {"column": "code_is_known", "value_set": [True]},
         "meta": {"severity": "error", "rule": "orphan_key"}},
    ],
}


@pytest.fixture
def mart(tmp_path):
    path = tmp_path / "suite.json"
    path.write_text(json.dumps(SUITE), encoding="utf-8")
    con = duckdb.connect(str(tmp_path / "work.duckdb"))
    con.execute("create schema marts")
    con.execute("create table marts.dim_codes as select * from (values ('a'), ('b'), ('c'), ('d'), ('e')) as v(code)")
    con.execute("create table marts.fct_things as select * from (values (1, 'a', 1), (2, 'b', 2), (3, 'c', 3)) as v(thing_id, code, score)")
    yield con, path
    con.close()


def check(con, path):
    """One daily check: (rows of the table, rows changed or None for whole, ids validated, failed rules)."""
    suite = load_suite(path)
    rows = changed_rows.rows_to_check(con, "fct_things", suite)
    frame = con.sql(rows.query).df()
    outcome = gx_runner.validate(suite, [frame])
    changed_rows.remember_passed(con, "fct_things", all_passed=not outcome.failed)
    return rows.total, rows.changed, sorted(frame["thing_id"]), sorted(o.rule for o in outcome.failed)


def test_only_new_and_changed_rows_are_validated_and_failures_match_the_whole_table(mart):
    con, path = mart
    assert check(con, path) == (3, None, [1, 2, 3], [])  # nothing remembered yet: the whole table

    con.execute("insert into marts.fct_things values (4, 'd', 4)")
    con.execute("update marts.fct_things set score = 5 where thing_id = 2")
    assert check(con, path) == (4, 2, [2, 4], [])  # 1 and 3 unchanged since they passed

    assert check(con, path) == (4, 0, [], [])  # nothing changed: nothing to validate

    # A new row duplicating row 1's code: row 1 is validated with it, and the duplicate is found.
    con.execute("insert into marts.fct_things values (5, 'a', 6)")
    assert check(con, path) == (5, 1, [1, 5], ["duplicate_row"])
    # The failure forgot the remembered rows: every row is validated again next time, and it still fails.
    assert check(con, path) == (5, 5, [1, 2, 3, 4, 5], ["duplicate_row"])


def test_a_change_in_a_joined_table_or_the_suite_revalidates_the_rows_it_touches(mart):
    con, path = mart
    check(con, path)
    con.execute("delete from marts.dim_codes where code = 'c'")  # row 3's code is no longer known
    assert check(con, path) == (3, 1, [3], ["orphan_key"])

    con.execute("insert into marts.dim_codes values ('c')")
    assert check(con, path) == (3, 3, [1, 2, 3], [])  # every row again (the failure forgot them), passes
    edited = dict(SUITE, expectations=[*SUITE["expectations"][:1], {**SUITE["expectations"][1], "kwargs": {
        "column": "score", "min_value": 0, "max_value": 2}}, SUITE["expectations"][2]])
    path.write_text(json.dumps(edited), encoding="utf-8")
    assert check(con, path) == (3, 3, [1, 2, 3], ["out_of_range"])  # every row's hash changed with the suite


def test_rules_across_rows_other_than_uniqueness_need_the_whole_table(tmp_path):
    base = {"meta": {"severity": "error"}}
    mean = dict(SUITE, expectations=[{**base, "type": "expect_column_mean_to_be_between", "kwargs": {"column": "score"}}])
    mostly = dict(SUITE, expectations=[{**base, "type": "expect_column_values_to_not_be_null",
                                        "kwargs": {"column": "score", "mostly": 0.9}}])
    floor = dict(SUITE, expectations=[{**base, "type": "expect_column_values_to_be_between",
                                       "kwargs": {"column": "score", "min_value": {"$PARAMETER": "now"}}}])
    reasons = []
    for i, suite in enumerate((mean, mostly, floor, SUITE)):
        path = tmp_path / f"s{i}.json"
        path.write_text(json.dumps(suite), encoding="utf-8")
        reasons.append(changed_rows.whole_table_reason(load_suite(path)))
    assert "reads the whole table" in reasons[0]
    assert "mostly" in reasons[1]
    assert "'now' as min_value" in reasons[2]
    assert reasons[3] == ""
