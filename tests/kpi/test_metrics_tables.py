"""The metrics tables on hand-built inputs and a real (temporary) DuckDB: sources kept apart, targets joined,
flags persisted across runs with the office's CSV, CityScore grains, the as-of date and the memo month."""
import datetime as dt

import duckdb
import pandas as pd
import pytest

from citystat import settings
from citystat.kpi import metrics_tables as tables
from citystat.kpi.submissions import SUBMISSION_COLUMNS

from kpi_helpers import monthly, run_engine


def computed_rows() -> pd.DataFrame:
    rows = [
        ("pw_on_time_pct", "pw", "2025-09", 50.0, 100.0, 50.0),
        ("pw_on_time_pct", "pw", "2025-10", 90.0, 100.0, 90.0),
        ("pw_paving_miles", "pw", "2025-10", 20.0, None, 20.0),   # fytd count: October = 4/12 of 62 miles
        ("lib_visits", "lib", "2025-10", 1.0, None, 1.0),         # a submitted KPI: a computed value is never used
    ]
    return pd.DataFrame(rows, columns=["kpi_id", "department_code", "period", "numerator", "denominator", "value"])


def submitted_rows() -> pd.DataFrame:
    rows = [
        ("lib_visits", "lib", "2025-10", 118_000.0, None, None, pd.Timestamp("2025-11-04 09:30"), "steady", "kpi_submissions_2025-10.csv", 2),
        ("pw_on_time_pct", "pw", "2025-08", 70.0, None, None, pd.Timestamp("2025-09-04 09:30"), None, "kpi_submissions_2025-08.csv", 7),
    ]
    return pd.DataFrame(rows, columns=SUBMISSION_COLUMNS)


def test_series_keeps_computed_and_submitted_apart_with_targets(registry):
    result = tables.build_kpi_series(computed_rows(), submitted_rows(), registry, dt.date(2025, 10, 31))
    series = result.series.set_index(["kpi_id", "period"])
    assert list(result.series.columns) == tables.SERIES_COLUMNS
    assert set(series.index) == {("pw_on_time_pct", "2025-09"), ("pw_on_time_pct", "2025-10"),
                                 ("pw_paving_miles", "2025-10"), ("lib_visits", "2025-10")}
    assert series.loc[("lib_visits", "2025-10"), "source"] == "submitted"
    assert series.loc[("lib_visits", "2025-10"), "value"] == 118_000.0  # not the computed 1.0
    assert series.loc[("lib_visits", "2025-10"), "submission_file"] == "kpi_submissions_2025-10.csv line 2"
    assert series.loc[("lib_visits", "2025-10"), "target"] == 126_000.0  # FY2026
    assert series.loc[("pw_on_time_pct", "2025-10"), "source"] == "computed"
    assert series.loc[("pw_on_time_pct", "2025-10"), "target"] == 90.0
    miles = series.loc[("pw_paving_miles", "2025-10")]
    assert miles["target"] == pytest.approx(62 * 4 / 12) and miles["target_basis"] == "registry, prorated 4/12"
    assert miles["grain"] == "fytd" and miles["unit"] == "miles" and miles["period_month"] == dt.date(2025, 10, 1)
    problem = result.problems.iloc[0]
    assert len(result.problems) == 1 and problem["stage"] == "metrics"
    assert (problem["submission_file"], problem["kpi_id"], problem["period"], problem["field"]) == \
        ("kpi_submissions_2025-08.csv line 7", "pw_on_time_pct", "2025-08", "kpi_id")


def write_status(con, rows, registry) -> pd.DataFrame:
    evaluated = run_engine(rows, registry)
    values = pd.DataFrame(rows).assign(source="computed", department_code=None)
    table = tables.status_table(evaluated, values, registry)
    tables._write(con, "kpi_status", table, {"period_month": "DATE", "met": "BOOLEAN"})
    return table


@pytest.fixture
def status_db(tmp_path, registry):
    con = duckdb.connect(str(tmp_path / "work.duckdb"))
    # cs_requests_received (direction none, threshold 15%): +20% in 2025-09 is a 'moved' flag; 2025-10 is back
    # within 15% of the 1000 before the swing (and -8% is no new flag)
    write_status(con, monthly("cs_requests_received", "2025-07", [1000.0, 1000.0, 1200.0, 1100.0]), registry)
    yield con
    con.close()


def test_flags_persist_and_the_office_csv_is_created_then_imported(status_db, tmp_path):
    csv_path = tmp_path / "flag_actions.csv"
    first = tables.write_flags(status_db, csv_path, now=dt.datetime(2025, 11, 1, 8, 0))
    assert first.sync.raised == ["cs_requests_received:2025-09:moved"] and first.csv_created
    assert first.sync.auto_resolved == ["cs_requests_received:2025-09:moved"]  # 1100 is within 15% of 1000
    exported = pd.read_csv(csv_path)
    assert exported["action"].str.startswith(("raised:", "auto-resolved:")).all() and len(exported) == 2

    with csv_path.open("a") as handle:
        handle.write("cs_requests_received:2025-09:moved,,,,2025-11-02 09:00,Performance Office,"
                     "asked 311 why: storm week,open,\n")
    second = tables.write_flags(status_db, csv_path, now=dt.datetime(2025, 11, 2, 8, 0))
    assert (second.imported, second.already_logged, second.csv_created) == (1, 2, False)
    assert second.sync.raised == [] and second.sync.auto_resolved == []  # the person reopened it; not overruled
    third = tables.write_flags(status_db, csv_path, now=dt.datetime(2025, 11, 3, 8, 0))
    assert (third.imported, third.already_logged) == (0, 3)
    flags = status_db.execute("SELECT flag_id, status, recovered_period FROM metrics.flags").fetchall()
    assert flags == [("cs_requests_received:2025-09:moved", "open", "2025-10")]
    assert status_db.execute("SELECT count(*) FROM metrics.flag_actions").fetchone()[0] == 3
    comment = status_db.execute("SELECT comment FROM duckdb_columns() WHERE schema_name = 'metrics' "
                                "AND table_name = 'flag_actions' AND column_name = 'actor'").fetchone()[0]
    assert comment.startswith("Who did it")


def test_a_bad_csv_row_imports_nothing_and_says_where(status_db, tmp_path):
    csv_path = tmp_path / "flag_actions.csv"
    tables.write_flags(status_db, csv_path)
    with csv_path.open("a") as handle:
        handle.write("cs_requests_received:2025-09:moved,,,,2025-11-02 09:00,Performance Office,called,escalated,\n")
        handle.write("cs_requests_received:2025-09:moved,,,,2025-11-02 10:00,Performance Office,done,finished,\n")
    result = tables.write_flags(status_db, csv_path)
    assert [str(p) for p in result.csv_problems] == [
        f"{csv_path} line 5: status: 'finished' is not one of open, acknowledged, escalated, resolved, condition cleared"]
    assert result.imported == 0
    assert status_db.execute("SELECT count(*) FROM metrics.flag_actions WHERE source = 'csv'").fetchone()[0] == 0


def test_cityscore_day_and_week_from_daily_values_month_and_quarter_from_status(registry):
    daily = pd.DataFrame({"kpi_id": "pw_on_time_pct", "department_code": "pw",
                          "period": ["2025-09-29", "2025-09-30", "2025-10-01"], "numerator": [9.0, 18.0, 0.0],
                          "denominator": [10.0, 20.0, 0.0], "value": [90.0, 90.0, None]})
    scores = tables.daily_scores(daily, registry, as_of=dt.date(2025, 9, 30))
    assert scores["period"].tolist() == ["2025-09-29", "2025-09-30"] and scores["score"].tolist() == [1.0, 1.0]
    monthly_status = run_engine(monthly("pw_on_time_pct", "2025-09", [45.0, 90.0]), registry)
    table = tables.cityscore_table(monthly_status, scores)
    citywide = table[table["level"] == "citywide"].set_index(["grain", "period"])["score"]
    assert citywide[("day", "2025-09-29")] == 1.0 and citywide[("week", "2025-W40")] == 1.0
    assert citywide[("month", "2025-09")] == 0.5 and citywide[("quarter", "FY2026-Q1")] == 0.5
    assert citywide[("quarter", "FY2026-Q2")] == 1.0


def test_as_of_date_and_memo_month(tmp_path, monkeypatch):
    con = duckdb.connect(str(tmp_path / "w.duckdb"))
    con.execute("CREATE SCHEMA marts; CREATE TABLE marts.kpi_values AS SELECT DATE '2026-10-01' AS period_month")
    monkeypatch.delenv(settings.AS_OF_ENV, raising=False)
    assert tables.data_as_of(con) == dt.date(2026, 10, 31)
    monkeypatch.setenv(settings.AS_OF_ENV, "2026-10-15")
    assert tables.data_as_of(con) == dt.date(2026, 10, 15)
    monkeypatch.setenv(settings.AS_OF_ENV, "15 Oct")
    with pytest.raises(ValueError, match="CITYSTAT_AS_OF: as_of '15 Oct' is not a date"):
        tables.data_as_of(con)
    assert tables.memo_month_for(dt.date(2026, 10, 31)) == "2026-10"
    assert tables.memo_month_for(dt.date(2026, 10, 15)) == "2026-09"
    assert tables.memo_month_for(dt.date(2026, 1, 5)) == "2025-12"


def test_kpis_without_recent_values_are_named(registry):
    status = run_engine(monthly("pw_on_time_pct", "2026-06", [90.0, 91.0]) + monthly("lib_visits", "2026-09", [1.0]), registry)
    silent = tables.kpis_without_recent_values(status, registry, dt.date(2026, 10, 31))
    assert "pw_on_time_pct" in silent and "lib_visits" not in silent and len(silent) == len(registry) - 1


def test_the_analysts_doc_lists_every_column_of_every_table():
    from pathlib import Path

    doc = (Path(__file__).resolve().parents[2] / "docs" / "metrics_tables.md").read_text()
    documented = {**{t: d for t, (_, d) in tables.TABLE_DOCS.items()}, "flags": tables.FLAG_DOCS[1],
                  "flag_actions": tables.FLAG_ACTION_DOCS[1]}
    for table, columns in documented.items():
        section = doc.split(f"### metrics.{table}\n")[1].split("\n### ")[0].split("\n## ")[0]
        missing = [c for c in columns if f"| `{c}` |" not in section]
        assert not missing, f"docs/metrics_tables.md, metrics.{table}: {missing}"
