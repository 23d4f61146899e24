"""The GX runner on real frames: counts, example record ids, severities, chunk merging and Data Docs."""
from __future__ import annotations

import datetime as dt
import json

import pandas as pd

from citystat.quality.gx_runner import validate
from citystat.quality.suites import load_suite
from citystat.quality.validation import validate_batches
import pytest

# the session's scale-0.1 city and warehouse (fixtures) are built inside the first test that asks for them
pytestmark = pytest.mark.timeout(1800)


def suite_file(tmp_path, expectations):
    path = tmp_path / "raw.test.cases.json"
    path.write_text(json.dumps({"name": "raw.test.cases", "meta": {"record_id": ["case_id"]}, "expectations": expectations}))
    return load_suite(path)


def rule(type_, kwargs, rule_name, severity="warning"):
    return {"type": type_, "kwargs": kwargs, "meta": {"severity": severity, "rule": rule_name, "description": rule_name}}


def test_counts_examples_severity_and_data_docs(tmp_path):
    suite = suite_file(tmp_path, [
        rule("expect_column_values_to_not_be_null", {"column": "closure_date", "row_condition": "status == 'addressed'",
                                                     "condition_parser": "pandas"}, "addressed_without_evidence", "error"),
        rule("expect_column_values_to_be_between", {"column": "opened_date", "max_value": {"$PARAMETER": "now"}}, "future_date"),
        rule("expect_column_values_to_be_in_set", {"column": "status", "value_set": ["open", "addressed"]}, "invalid_code"),
    ])
    frame = pd.DataFrame({
        "_record_id": ["CASE-1", "CASE-2", "CASE-3", "CASE-4"],
        "case_id": ["CASE-1", "CASE-2", "CASE-3", "CASE-4"],
        "status": ["addressed", "addressed", "open", "open"],
        "closure_date": pd.to_datetime(["2024-01-05", None, None, None]),
        "opened_date": pd.to_datetime(["2024-01-01", "2024-01-02", "2042-01-03", "2024-01-04"]),
    })
    outcome = validate(suite, [frame], {"now": dt.datetime(2026, 10, 31)}, run_name="load-1", docs_dir=tmp_path / "docs")
    by_rule = {o.rule: o for o in outcome.outcomes}
    assert (by_rule["addressed_without_evidence"].success, by_rule["addressed_without_evidence"].unexpected_count) == (False, 1)
    assert by_rule["addressed_without_evidence"].examples == ["CASE-2"]
    assert by_rule["future_date"].unexpected_ids == {"CASE-3"}
    assert by_rule["invalid_code"].success and by_rule["invalid_code"].element_count == 4
    assert [o.rule for o in outcome.failed_errors] == ["addressed_without_evidence"]
    text = outcome.describe("test.cases")
    assert "[error] addressed_without_evidence" in text and "CASE-2" in text and "test.cases" in text
    assert outcome.docs_path is not None and outcome.docs_path.is_file()
    assert "addressed" in outcome.docs_path.read_text() or outcome.docs_path.stat().st_size > 1000


def test_a_misnamed_column_is_a_failure_that_says_why(tmp_path):
    suite = suite_file(tmp_path, [rule("expect_column_values_to_not_be_null", {"column": "no_such_column"}, "missing_required")])
    outcome = validate(suite, [pd.DataFrame({"_record_id": ["A"], "case_id": ["A"]})])
    assert not outcome.success and "no_such_column" in (outcome.outcomes[0].error or "")


def test_chunked_validation_equals_one_pass(defective_built, inventory, tmp_path):
    """Chunks are cut by a hash of (file, key), so even the uniqueness rule sees every copy of a key together."""
    ref = inventory.get("fin_erp", "expenditures")
    whole = validate_batches(ref, defective_built.landing, inventory)
    chunked = validate_batches(ref, defective_built.landing, inventory, chunk_rows=1000)
    assert whole.rows == chunked.rows > 5000
    for a, b in zip(whole.outcomes, chunked.outcomes):
        assert (a.rule, a.unexpected_count, a.unexpected_ids, a.success) == (b.rule, b.unexpected_count, b.unexpected_ids, b.success)
    duplicates = next(o for o in chunked.outcomes if o.rule == "duplicate_row")
    assert duplicates.unexpected_count > 0
