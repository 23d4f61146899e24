"""The suite files: generated from the inventory, hand-written rules kept, every rule with a severity."""
from __future__ import annotations

import json

import pytest

from citystat.ingestion import is_automated
from citystat.quality.suites import ERROR, SuiteError, WARNING, all_suites, load_suite, raw_suite_name

# Suites up to date with the inventory and rules: tests/test_generated_files.py (`citystat generate --check`).


def test_every_automated_dataset_has_a_raw_suite_and_every_rule_a_severity(inventory):
    suites = all_suites()
    for ref in inventory.datasets():
        if is_automated(ref):
            assert raw_suite_name(*ref.key) in suites, ref.name
    for suite in suites.values():
        assert suite.expectations, suite.name
        for e in suite.expectations:
            assert e["meta"]["severity"] in (ERROR, WARNING) and e["meta"]["rule"] and e["meta"]["description"], (suite.name, e)
    marts = [s for s in suites.values() if s.target.get("kind") == "mart"]
    assert {s.target["model"] for s in marts} >= {"kpi_values", "fct_service_requests", "fct_code_cases"}
    assert all(s.query and s.has_errors for s in marts)


def test_baseline_follows_the_inventory_field_definitions(inventory):
    suite = all_suites()["raw.ce_vacant.cases"]
    by = {(e["type"], json.dumps(e["kwargs"], sort_keys=True)): e["meta"] for e in suite.expectations}

    def has(type_, **kwargs):
        return by.get((type_, json.dumps(kwargs, sort_keys=True)))

    assert has("expect_column_values_to_not_be_null", column="case_id")["rule"] == "missing_required"
    assert has("expect_column_values_to_match_regex", column="case_id", regex=r"^CASE-\d+$")["origin"] == "inventory"
    assert has("expect_column_values_to_be_in_set", column="status", value_set=["open", "in_progress", "addressed"])
    assert has("expect_compound_columns_to_be_unique", column_list=["case_id", "_source_file"])["rule"] == "duplicate_row"
    typed = [e for e in suite.expectations if e["kwargs"].get("column") == "opened_date__landed"]
    assert typed and typed[0]["meta"]["rule"] == "uncastable_value"
    # pii fields that are not required are not checked: they never leave landing
    assert not any("owner_phone" in json.dumps(e["kwargs"]) for e in suite.expectations)
    # the hand-written South Bend rule follows the baseline
    rules = [e for e in suite.expectations if e["meta"]["origin"] == "rules"]
    assert {e["meta"]["rule"] for e in rules} >= {"addressed_without_evidence", "closed_before_opened", "future_date"}


def test_regeneration_keeps_hand_written_rules_and_a_reviewed_severity(tmp_path, monkeypatch, inventory):
    from citystat.quality import suite_generation as generate

    ref = inventory.get("pw_mms", "work_orders")
    name = raw_suite_name(*ref.key)
    previous = json.loads((generate.suites_dir() / f"{name}.json").read_text())
    reviewed = next(e for e in previous["expectations"] if e["meta"]["origin"] == "inventory"
                    and e["kwargs"].get("column") == "labor_hours")
    reviewed["meta"]["severity"] = ERROR  # a reviewer made a baseline rule blocking
    rebuilt = generate.build_suite(name, generate.baseline(ref), {"target": {}}, previous)
    again = next(e for e in rebuilt["expectations"] if e["meta"]["origin"] == "inventory" and e["kwargs"].get("column") == "labor_hours")
    assert again["meta"]["severity"] == ERROR
    hand_written = [e for e in rebuilt["expectations"] if e["meta"]["origin"] == "rules"]
    assert hand_written == [e for e in previous["expectations"] if e["meta"]["origin"] == "rules"]
    assert any(e["meta"]["rule"] == "orphan_key" for e in hand_written)


def test_a_suite_without_severity_is_refused_with_the_file_and_rule(tmp_path):
    path = tmp_path / "raw.x.y.json"
    path.write_text(json.dumps({"name": "raw.x.y", "expectations": [
        {"type": "expect_column_values_to_not_be_null", "kwargs": {"column": "a"}, "meta": {"severity": "fatal"}}]}))
    with pytest.raises(SuiteError, match=r"raw\.x\.y\.json: expectations\[0\] \(expect_column_values_to_not_be_null\) needs meta.severity"):
        load_suite(path)
