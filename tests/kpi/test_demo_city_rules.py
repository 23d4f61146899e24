"""Issue 13 on the demo city (a scale-0.1 city landed and built by the real pipeline, metrics assets run twice):
no published share exceeds 100, no flag comes from a fiscal-year reset, one flag per KPI-month, the human-services
rates match an independent recomputation of their registry definition, volume KPIs are 'tracked'."""
import duckdb
import pytest

pytestmark = pytest.mark.timeout(1800)  # the shared fixture lands and builds a demo city on a loaded machine

# Percentages that are ratios to a plan, not shares of a whole: over 100 means ahead of plan (docs/kpi_rules.md).
NOT_BOUNDED = {"fin_budget_execution_pct"}


@pytest.fixture(scope="module")
def con(metrics_runs, kpi_demo_warehouse):
    with duckdb.connect(str(kpi_demo_warehouse.db), read_only=True) as connection:
        yield connection


def test_no_published_share_exceeds_100(con, registry):
    bounded = sorted(k for k, kpi in registry.kpis.items() if kpi.unit == "pct" and k not in NOT_BOUNDED)
    over = con.execute("""SELECT kpi_id, period, value FROM metrics.kpi_status
                          WHERE kpi_id IN (SELECT unnest(?)) AND value > 100 + 1e-9 ORDER BY ALL""", [bounded]).fetchall()
    assert over == []
    over_mart = con.execute("""SELECT kpi_id, period_month, value FROM marts.kpi_values
                               WHERE kpi_id IN (SELECT unnest(?)) AND value > 100 + 1e-9""", [bounded]).fetchall()
    assert over_mart == []
    assert con.execute("SELECT count(*) FROM metrics.kpi_status WHERE unit = 'pct' AND value < 0").fetchone()[0] == 0


def test_no_flag_is_raised_by_a_fiscal_year_reset(con, registry):
    fytd = sorted(k for k, kpi in registry.kpis.items() if kpi.grain == "fytd")
    swings = con.execute("""SELECT flag_id, period, baseline_period, comparison_basis FROM metrics.flags
                            WHERE kpi_id IN (SELECT unnest(?)) AND kind IN ('worsened', 'moved')""", [fytd]).fetchall()

    def fiscal_year(period: str) -> int:
        year, month = map(int, period.split("-"))
        return year + (month >= 7)

    across = [s for s in swings if s[3] != "same period last year" and fiscal_year(s[1]) != fiscal_year(s[2])]
    assert across == []
    # same-period comparisons are a year apart, to the month
    assert all(s[2] == f"{int(s[1][:4]) - 1}{s[1][4:]}" for s in swings if s[3] == "same period last year")
    # the July paving swing the old rule raised every year (-87% against June's full-year total) is gone
    assert con.execute("""SELECT count(*) FROM metrics.flags WHERE kpi_id = 'pw_paving_miles' AND kind = 'worsened'
                          AND period LIKE '%-07'""").fetchone()[0] == 0


def test_one_flag_per_kpi_and_month(con):
    assert con.execute("""SELECT count(*) FROM (SELECT kpi_id, period FROM metrics.flags GROUP BY ALL
                          HAVING count(*) > 1)""").fetchone()[0] == 0


def test_resolved_flags_recovered_and_days_open_are_filled(con):
    # every resolved flag recovered on its rule (or a person resolved it); cleared ones have a clearing period
    assert con.execute("""SELECT count(*) FROM metrics.flags f WHERE status = 'resolved' AND recovered_period IS NULL
                          AND NOT EXISTS (SELECT 1 FROM metrics.flag_actions a WHERE a.flag_id = f.flag_id
                                          AND a.status = 'resolved' AND a.source <> 'engine')""").fetchone()[0] == 0
    assert con.execute("""SELECT count(*) FROM metrics.flags WHERE status = 'condition cleared'
                          AND cleared_period IS NULL""").fetchone()[0] == 0
    assert con.execute("SELECT count(*) FROM metrics.flags WHERE days_open IS NULL OR days_open < 0").fetchone()[0] == 0


def test_human_services_rates_are_the_share_of_sites_meeting_their_target(con):
    # independent recomputation from the site-month fact, in Python
    rows = con.execute("""SELECT program_code, strftime(month_start, '%Y-%m'), outcome_value, outcome_target
                          FROM marts.fct_programme_site_outcomes""").fetchall()
    shares: dict[tuple[str, str], list[bool]] = {}
    for program, month, value, target in rows:
        shares.setdefault((program, month), []).append(value >= target)
    published = dict(((k, p), v) for k, p, v in con.execute(
        """SELECT kpi_id, period, value FROM metrics.kpi_status
           WHERE kpi_id IN ('hs_senior_outcome_rate', 'hs_child_care_outcome_rate')""").fetchall())
    names = {"hs_senior_centres": "hs_senior_outcome_rate", "hs_child_care": "hs_child_care_outcome_rate"}
    for (program, month), met in shares.items():
        assert published[(names[program], month)] == pytest.approx(100.0 * sum(met) / len(met))


def test_volume_kpis_with_years_of_data_are_tracked_not_short_of_data(con):
    rows = con.execute("""SELECT kpi_id, status, gray_reason FROM metrics.kpi_status
                          WHERE desired_direction = 'none' AND value IS NOT NULL""").fetchall()
    assert rows and {(s, r) for _, s, r in rows} == {("gray", "tracked (direction none)")}
