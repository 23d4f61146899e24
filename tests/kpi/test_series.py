"""Reading and validating long-format KPI series files (the `citystat kpi status` input)."""
import pandas as pd
import pytest

from citystat.kpi import series
from citystat.kpi.periods import parse_period
from citystat.kpi.problems import ValidationError


def _write(tmp_path, text):
    path = tmp_path / "series.csv"
    path.write_text(text)
    return path


def test_bad_rows_name_line_and_field(tmp_path):
    path = _write(tmp_path, "\n".join([
        "kpi_id,period,value,target,desired_direction,flag_threshold",
        "a,2025-01,90,100,up,",
        "a,2025-13,90,100,up,",       # line 3: month 13
        "a,2025-02,ninety,100,up,",   # line 4: value not a number
        ",2025-03,90,100,up,",        # line 5: no kpi_id
        "a,2025-04,90,100,higher,",   # line 6: direction
        "a,2025-05,90,100,up,0",      # line 7: threshold must be > 0
        "a,2025-01,91,100,up,",       # line 8: duplicate period
        "a,FY2025,91,100,up,",        # line 9: mixes grains
    ]) + "\n")
    with pytest.raises(ValidationError) as excinfo:
        series.read_series_csv(path)
    problems = [str(p) for p in excinfo.value.problems]
    assert problems == [
        f"{path} line 3: period: '2025-13' is not a period (expected YYYY-MM, FYyyyy or YYYY-MM-DD)",
        f"{path} line 4: value: 'ninety' is not a number",
        f"{path} line 5: kpi_id: is required",
        f"{path} line 6: desired_direction: 'higher' is not one of up, down, none",
        f"{path} line 7: flag_threshold: 0 must be > 0",
        f"{path} line 8: period: a 2025-01 appears twice (first at {path} line 2)",
        f"{path} line 9: period: a mixes month periods ({path} line 2) with fiscal_year periods",
    ]


def test_missing_columns(tmp_path):
    path = _write(tmp_path, "kpi,month,value\na,2025-01,1\n")
    with pytest.raises(ValidationError, match=r"line 1: header: missing column\(s\) kpi_id, period \(or fiscal_year\)"):
        series.read_series_csv(path)


def test_fiscal_year_column_blank_values_and_ignored_columns(tmp_path):
    path = _write(tmp_path, "KPI_ID,Fiscal_Year,Value,numerator,denominator,Desired_Direction\n"
                            "a,2024,10,1,10,Up\na,FY2025,,0,0,up\n")
    records, ignored = series.read_series_csv(path)
    assert ignored == ["numerator", "denominator"]
    assert [r["period"].label for r in records] == ["FY2024", "FY2025"]
    assert records[0]["desired_direction"] == "up" and records[1]["value"] is None


def test_frame_rows_are_named_by_row_number():
    frame = pd.DataFrame({"kpi_id": ["a", "a"], "period": ["2025-01", "2025/02"], "value": [1.0, 2.0]})
    with pytest.raises(ValidationError, match=r"kpi_values row 2: period: '2025/02' is not a period"):
        series.records_from_frame(frame, "kpi_values")


def test_periods():
    assert parse_period("2025-07").fiscal_year == 2026 and parse_period("2025-07").fiscal_month == 1
    assert parse_period("2026-06").fiscal_month == 12
    assert parse_period("fy2025").label == "FY2025"
    assert parse_period("2024-02-29").years_earlier(1).label == "2023-02-28"
    assert parse_period("2025-03").years_earlier(2).label == "2023-03"
    assert parse_period("2025-01").ordinal - parse_period("2024-11").ordinal == 2
