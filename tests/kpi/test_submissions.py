"""Validation of submitted KPI values, rule by rule, through the real registry: every problem names file, line and field."""
import datetime as dt

import pandas as pd
import pytest

from citystat.kpi.submissions import SUBMISSION_COLUMNS, check_submissions

AS_OF = dt.date(2026, 10, 31)


def submitted(**overrides) -> dict:
    row = {"kpi_id": "lib_patron_satisfaction_pct", "department_code": "lib", "period": "2025-03", "value": 93.4,
           "numerator": 396.0, "denominator": 424.0, "submitted_at": pd.Timestamp("2025-04-03 10:00"), "notes": None,
           "source_file": "kpi_submissions_2025-03.csv", "source_line": 4}
    return {**row, **overrides}


def check(rows: list[dict], registry):
    return check_submissions(pd.DataFrame(rows, columns=SUBMISSION_COLUMNS), registry, AS_OF)


def only_problem(rows, registry) -> str:
    result = check(rows, registry)
    assert len(result.problems) == 1, [str(p) for p in result.problems]
    return str(result.problems[0])


def test_a_valid_row_is_accepted(registry):
    result = check([submitted(), submitted(kpi_id="lib_visits", value=118_000.0, numerator=None, denominator=None)], registry)
    assert result.problems == [] and result.rejected_rows == 0
    assert result.accepted["kpi_id"].tolist() == ["lib_patron_satisfaction_pct", "lib_visits"]


def test_a_computed_kpi_never_takes_a_submitted_value(registry):
    message = only_problem([submitted(kpi_id="pw_on_time_pct", department_code="pw", value=90.0, numerator=None,
                                      denominator=None)], registry)
    assert message == ("kpi_submissions_2025-03.csv line 4: kpi_id: 'pw_on_time_pct' is computed by CityStat "
                       "(registry source computed); a submitted value is not accepted for it")


@pytest.mark.parametrize("overrides, expected", [
    ({"kpi_id": "lib_visitz"}, "kpi_id: 'lib_visitz' is not a KPI in the registry"),
    ({"department_code": "parks"}, "department_code: 'parks' is not the department of lib_patron_satisfaction_pct (lib)"),
    ({"period": "2025-3-1"}, "period: '2025-3-1' is not a period (expected YYYY-MM, FYyyyy or YYYY-MM-DD)"),
    ({"period": "FY2025"}, "period: 'FY2025' is not a month (YYYY-MM)"),
    ({"period": "2026-11"}, "period: 2026-11 is after the as-of date 2026-10-31"),
    ({"value": None}, "value: is required"),
    ({"value": 104.0, "numerator": None, "denominator": None}, "value: 104 is not a percentage 0-100"),
    ({"value": 93.0}, "value: 93 does not match 100 x numerator / denominator = 93.4 (396 / 424)"),
    ({"denominator": 0.0}, "denominator: 0 must be > 0"),
])
def test_each_rule_names_the_field(registry, overrides, expected):
    result = check([submitted(**overrides)], registry)
    assert [str(p) for p in result.problems] == [f"kpi_submissions_2025-03.csv line 4: {expected}"]
    assert result.accepted.empty and result.rejected_rows == 1


def test_rounding_to_one_decimal_is_consistent_and_other_units_use_the_plain_ratio(registry):
    rows = [submitted(value=93.45),  # 100 x 396/424 = 93.396: within 0.05
            submitted(kpi_id="hr_days_to_hire", department_code="hr", value=52.8, numerator=2271.0, denominator=43.0)]
    assert check(rows, registry).problems == []
    message = only_problem([submitted(kpi_id="hr_days_to_hire", department_code="hr", value=5280.0, numerator=2271.0,
                                      denominator=43.0)], registry)
    assert "value: 5280 does not match numerator / denominator = 52.81" in message


def test_negative_counts_and_duplicates(registry):
    assert "value: -5 is negative (count cannot be)" in only_problem(
        [submitted(kpi_id="lib_visits", value=-5.0, numerator=None, denominator=None)], registry)
    rows = [submitted(), submitted(source_line=9)]
    assert only_problem(rows, registry) == ("kpi_submissions_2025-03.csv line 9: period: lib_patron_satisfaction_pct "
                                            "2025-03 is submitted twice (also kpi_submissions_2025-03.csv line 4)")


def test_good_rows_are_kept_beside_bad_ones(registry):
    result = check([submitted(), submitted(period="2025-04", kpi_id="nope", source_line=5)], registry)
    assert result.accepted["period"].tolist() == ["2025-03"] and result.rejected_rows == 1
