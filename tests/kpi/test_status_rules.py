"""The status engine, rule by rule (docs/kpi_rules.md)."""
import math

import pytest

from citystat.kpi import status

from kpi_helpers import monthly, row_of, run_engine


def one(value, target=100.0, direction="up", **extra):
    table = run_engine([{"kpi_id": "k", "period": "2025-03", "value": value, "target": target,
                         "desired_direction": direction, **extra}])
    return table.iloc[0].to_dict()


# ---- met / RAG -------------------------------------------------------------------------------------------

def test_no_target_is_gray_with_no_call():
    row = one(95.0, target=None)
    assert row["status"] == "gray" and "no target" in row["status_reason"]
    assert row["met"] is None and math.isnan(row["score"])


def test_zero_denominator_value_missing_is_gray_no_data():
    row = one(None)
    assert row["status"] == "gray" and "no data" in row["status_reason"]
    assert row["met"] is None and math.isnan(row["score"]) and not row["pop_flag"]


def test_direction_none_gets_no_call_even_with_a_target():
    row = one(50.0, target=100.0, direction="none")
    assert row["status"] == "gray" and row["met"] is None
    assert math.isnan(row["score"])


def test_exactly_on_target_is_green_and_scores_one():
    row = one(100.0)
    assert (row["status"], row["met"], row["score"]) == ("green", True, 1.0)
    # float noise from upstream arithmetic must not tip an on-target value into yellow
    assert 0.7 + 0.1 < 0.8 and one(0.7 + 0.1, target=0.8)["status"] == "green"


@pytest.mark.parametrize("value, expected", [(90.0, "yellow"), (89.99, "red"), (99.0, "yellow"), (120.0, "green")])
def test_band_edges_up(value, expected):
    assert one(value)["status"] == expected


@pytest.mark.parametrize("value, expected", [(220.0, "yellow"), (220.01, "red"), (200.0, "green"), (150.0, "green")])
def test_band_edges_down(value, expected):
    assert one(value, target=200.0, direction="down")["status"] == expected


def test_band_edge_survives_float_noise():
    # |0.99 - 1.1| / 1.1 is 0.1000000000000001 in floating point: still exactly 10% off, still yellow
    assert one(0.99, target=1.1)["status"] == "yellow"


def test_per_kpi_yellow_band_and_red_band():
    assert one(97.0, yellow_band=0.02)["status"] == "red"
    assert one(85.0, yellow_band=0.10, red_band=0.20)["status"] == "yellow"
    assert one(80.0, yellow_band=0.10, red_band=0.20)["status"] == "yellow"
    assert one(79.0, yellow_band=0.10, red_band=0.20)["status"] == "red"


def test_min_periods_for_status_grays_the_first_periods():
    table = run_engine(monthly("k", "2025-01", [90.0, 91.0, 92.0], target=100.0, desired_direction="up",
                               min_periods_for_status=3))
    assert list(table["status"]) == ["gray", "gray", "yellow"]
    assert "only 1 period" in table.iloc[0]["status_reason"]
    assert list(table["met"]) == [False, False, False]  # met is a plain comparison, made regardless


# ---- score (CityScore) -----------------------------------------------------------------------------------

def test_down_direction_inverts_met_and_score():
    row = one(300.0, target=240.0, direction="down")
    assert row["met"] is False and row["score"] == pytest.approx(0.8)
    row = one(200.0, target=240.0, direction="down")
    assert row["met"] is True and row["score"] == pytest.approx(1.2)


def test_score_is_capped_and_cap_is_configurable():
    assert one(200.0)["score"] == 1.25
    table = run_engine([{"kpi_id": "k", "period": "2025-03", "value": 200.0, "target": 100.0, "desired_direction": "up"}],
                       score_cap=2.0)
    assert table.iloc[0]["score"] == 2.0


@pytest.mark.parametrize("value, target, direction, score, colour", [
    (5.0, 0.0, "up", 1.25, "green"),     # anything above a zero target beats it
    (0.0, 0.0, "up", 1.0, "green"),
    (3.0, 0.0, "down", 0.0, "red"),      # zero tolerance: any incident is infinitely far off
    (0.0, 240.0, "down", 1.25, "green"),  # zero time against a positive target: best possible
    (0.0, 0.0, "down", 1.0, "green"),
])
def test_zero_target_and_zero_value(value, target, direction, score, colour):
    row = one(value, target=target, direction=direction)
    assert (row["score"], row["status"]) == (score, colour)


def test_negative_values_get_no_score():
    assert status.cityscore(-5.0, 10.0, "up") is None


# ---- period over period ----------------------------------------------------------------------------------

def test_missing_periods_compare_with_the_actual_previous_period_and_mark_the_gap():
    rows = [{"kpi_id": "k", "period": p, "value": v, "target": 100.0, "desired_direction": "up"}
            for p, v in [("2025-01", 80.0), ("2025-02", None), ("2025-05", 90.0), ("2025-06", 91.0)]]
    table = run_engine(rows)
    may = row_of(table, "k", "2025-05")
    assert may["previous_period"] == "2025-01" and may["previous_value"] == 80.0
    assert may["gap_periods"] == 3  # February (no value), March and April (no row)
    assert may["relative_change"] == pytest.approx(0.125) and may["pop_flag"]
    june = row_of(table, "k", "2025-06")
    assert june["previous_period"] == "2025-05" and june["gap_periods"] == 0 and not june["pop_flag"]


def test_change_threshold_edge_and_per_kpi_override():
    table = run_engine(monthly("k", "2025-01", [100.0, 110.0, 117.7], desired_direction="up"))
    assert list(table["pop_flag"]) == [False, True, False]  # +10% is flagged (>=), +7% is not at the default
    table = run_engine(monthly("k", "2025-01", [100.0, 110.0, 117.7], desired_direction="up", flag_threshold=0.05))
    assert list(table["pop_flag"]) == [False, True, True]


def test_registry_threshold_override_applies(registry):
    # pw_potholes_within_sla_pct is registered with a 5% threshold, pw_streetlights_within_sla_pct with 10%
    rows = monthly("pw_potholes_within_sla_pct", "2025-01", [80.0, 75.0]) + \
        monthly("pw_streetlights_within_sla_pct", "2025-01", [80.0, 75.0])
    table = run_engine(rows, registry)
    assert row_of(table, "pw_potholes_within_sla_pct", "2025-02")["pop_flag"]
    assert not row_of(table, "pw_streetlights_within_sla_pct", "2025-02")["pop_flag"]
    assert row_of(table, "pw_potholes_within_sla_pct", "2025-02")["change_direction"] == "worse"


def test_zero_previous_value():
    table = run_engine(monthly("k", "2025-01", [0.0, 0.0, 4.0], desired_direction="none"))
    assert list(table["pop_flag"]) == [False, False, True]
    assert table.iloc[1]["relative_change"] == 0.0
    assert math.isnan(table.iloc[2]["relative_change"])  # unbounded, but flagged
    assert table.iloc[2]["change_direction"] == "up"


def test_direction_none_still_flags_big_moves():
    table = run_engine(monthly("k", "2025-01", [100.0, 80.0], desired_direction="none"))
    assert table.iloc[1]["pop_flag"] and table.iloc[1]["change_direction"] == "down"
    assert table.iloc[1]["trend_vs_last_year"] is None


# ---- trend against last year and the 3- and 5-year averages ----------------------------------------------

def _yearly(values_by_fy: dict[int, float], direction="up"):
    return [{"kpi_id": "k", "period": f"FY{fy}", "value": v, "desired_direction": direction} for fy, v in values_by_fy.items()]


def test_trend_with_fewer_than_three_prior_years():
    table = run_engine(_yearly({2023: 70.0, 2024: 80.0, 2025: 85.0}))
    fy25 = row_of(table, "k", "FY2025")
    assert fy25["trend_vs_last_year"] == "improving" and fy25["last_year_value"] == 80.0
    assert fy25["trend_vs_3yr_avg"] == "insufficient data" and math.isnan(fy25["avg_3yr"])
    assert fy25["trend_vs_5yr_avg"] == "insufficient data"


def test_trend_against_three_and_five_year_averages():
    table = run_engine(_yearly({2019: 90.0, 2020: 90.0, 2021: 60.0, 2022: 70.0, 2023: 80.0, 2024: 90.0, 2025: 85.0}))
    fy25 = row_of(table, "k", "FY2025")
    assert fy25["trend_vs_last_year"] == "not improving"          # 85 < 90
    assert fy25["avg_3yr"] == pytest.approx(80.0)                 # (90 + 80 + 70) / 3
    assert fy25["trend_vs_3yr_avg"] == "improving"
    assert fy25["avg_5yr"] == pytest.approx(78.0)                 # (90 + 80 + 70 + 60 + 90) / 5
    assert fy25["trend_vs_5yr_avg"] == "improving"


def test_trend_is_direction_aware_and_flat_is_not_improving():
    table = run_engine(_yearly({2024: 300.0, 2025: 280.0}, direction="down"))
    assert row_of(table, "k", "FY2025")["trend_vs_last_year"] == "improving"
    table = run_engine(_yearly({2024: 280.0, 2025: 280.0}, direction="down"))
    assert row_of(table, "k", "FY2025")["trend_vs_last_year"] == "not improving"


def test_monthly_trend_compares_the_same_month_last_year():
    rows = monthly("k", "2024-01", [50.0] * 12 + [60.0], desired_direction="up")
    rows[0]["value"] = 70.0  # January 2024
    table = run_engine(rows)
    jan = row_of(table, "k", "2025-01")
    assert jan["last_year_value"] == 70.0 and jan["trend_vs_last_year"] == "not improving"


# ---- registry-driven preparation ------------------------------------------------------------------------

def test_registry_supplies_direction_bands_and_target(registry):
    table = run_engine(monthly("fire_turnout_p90_sec", "2025-07", [100.0, 110.0, 110.5]), registry)
    assert list(table["status"]) == ["green", "yellow", "red"]  # down, target 100 s in FY2026, yellow to 110 s
    assert set(table["target_basis"]) == {"registry"}
    assert table.iloc[0]["critical"] and table.iloc[0]["department_code"] == "fire"


def test_row_values_override_the_registry(registry):
    table = run_engine([{"kpi_id": "pw_on_time_pct", "period": "2025-07", "value": 70.0, "target": 70.0}], registry)
    row = table.iloc[0]
    assert row["target"] == 70.0 and row["target_basis"] == "series" and row["status"] == "green"


def test_fytd_additive_target_is_prorated(registry):
    # pw_paving_miles: fytd, miles, FY2026 target 62 miles -> October is fiscal month 4 -> 62 * 4 / 12
    table = run_engine([{"kpi_id": "pw_paving_miles", "period": "2025-10", "value": 18.0}], registry)
    row = table.iloc[0]
    assert row["target"] == pytest.approx(62 * 4 / 12) and "prorated 4/12" in row["target_basis"]
    assert row["status"] == "yellow"  # 12.9% behind: within the 20% red_band of this seasonal KPI


def test_atlanta_style_climb_is_red_early_and_green_late(registry):
    # Public Works on-time completion climbing from 57% to 95% over 40 months against the 90% target
    values = [57.0 + (95.0 - 57.0) * i / 39 for i in range(40)]
    table = run_engine(monthly("pw_on_time_pct", "2023-07", values), registry)
    assert set(table.head(12)["status"]) == {"red"}
    assert set(table.tail(6)["status"]) == {"green"}
    assert (table[table["period"] >= "2024-07"]["trend_vs_last_year"] == "improving").all()
