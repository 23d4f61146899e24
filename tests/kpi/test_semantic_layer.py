"""The MetricFlow semantic layer answers what the KPI tables say: `mf query` (a real subprocess on the demo city's
warehouse, with dbt's profile) against metrics.kpi_series for a sample of KPIs of every aggregation family, and
against kpi_values for 311 on-time rates computed independently from fct_service_requests."""
import os
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from orchestration.lib.dbt_project import DBT_PROJECT_DIR
from citystat.kpi import semantic
from citystat.publish import publish_snapshot

# one KPI or more of each family (semantic.family): pooled rates (pct, ratio, usd), fytd rate, counts, fytd miles,
# medians / percentiles (mean beyond a month), submitted counts and means
SAMPLE = ["pw_on_time_pct", "ce_inspections_per_inspector", "pw_cost_per_work_order", "fin_budget_execution_pct",
          "cs_requests_received", "pw_paving_miles", "fire_turnout_p90_sec", "cs_median_days_to_close",
          "lib_visits", "hr_days_to_hire", "it_system_uptime_pct"]


def test_the_generated_kpi_metrics_match_the_registry(registry):
    assert semantic.METRICS_FILE.read_text() == semantic.render(registry), \
        "stale: run `citystat generate` after editing the KPI registry"


def test_each_kpi_aggregates_by_its_family(registry):
    families = {k: semantic.family(registry[k]) for k in SAMPLE}
    assert families == {"pw_on_time_pct": "rate", "ce_inspections_per_inspector": "rate", "pw_cost_per_work_order": "rate",
                        "fin_budget_execution_pct": "rate", "cs_requests_received": "sum", "pw_paving_miles": "sum",
                        "fire_turnout_p90_sec": "mean", "cs_median_days_to_close": "mean", "lib_visits": "sum",
                        "hr_days_to_hire": "mean", "it_system_uptime_pct": "mean"}
    metrics = {m["name"]: m for k in registry.kpis.values() for m in semantic.kpi_metrics(k)}
    assert set(registry.kpis) <= set(metrics)
    assert metrics["pw_on_time_pct_share"]["type_params"] == {"numerator": "pw_on_time_pct_numerator",
                                                              "denominator": "pw_on_time_pct_denominator"}
    assert metrics["pw_on_time_pct"]["type"] == "derived" and metrics["ce_inspections_per_inspector"]["type"] == "ratio"
    assert metrics["fin_budget_execution_pct_numerator"]["type_params"]["measure"] == "kpi_numerator_latest"
    assert metrics["pw_paving_miles"]["type_params"]["measure"] == "kpi_value_latest"
    assert metrics["lib_visits"]["type_params"]["measure"] == "submitted_value_sum"
    assert metrics["lib_visits"]["filter"] == "{{ Dimension('kpi_submission__kpi_id') }} = 'lib_visits'"


@pytest.fixture(scope="module")
def mf_project(kpi_demo_warehouse, tmp_path_factory) -> Path:
    """The dbt project with the demo build's semantic manifest in target/, where `mf` looks for it."""
    project = tmp_path_factory.mktemp("mf") / "dbt_project"
    shutil.copytree(DBT_PROJECT_DIR, project, ignore=shutil.ignore_patterns("target", "logs", "dbt_packages"))
    (project / "target").mkdir()
    shutil.copy(kpi_demo_warehouse.target / "semantic_manifest.json", project / "target" / "semantic_manifest.json")
    return project


def mf_query(project: Path, demo, out: Path, metrics: list[str], group_by: list[str], **env) -> pd.DataFrame:
    """`mf query ... --csv out` in the dbt project folder, as an analyst runs it."""
    command = [str(Path(sys.executable).with_name("mf")), "query", "--metrics", ",".join(metrics),
               "--group-by", ",".join(group_by), "--csv", str(out)]
    result = subprocess.run(command, cwd=project, capture_output=True, text=True, timeout=600,
                            env={**os.environ, "CITYSTAT_WORK_DB": str(demo.db), "CITYSTAT_LANDING_DIR": str(demo.db.parent / "landing"),
                                 "DBT_TARGET": "dev", **env})
    assert result.returncode == 0 and out.exists(), f"mf query failed:\n{result.stdout[-4000:]}\n{result.stderr[-2000:]}"
    frame = pd.read_csv(out)
    frame["period"] = frame[group_by[0]].str[:7]
    return frame


@pytest.mark.slow
def test_mf_query_by_month_and_department_equals_the_kpi_tables(metrics_runs, kpi_demo_warehouse, mf_project, tmp_path):
    # nothing else holds the working warehouse while mf (through dbt-duckdb) opens it
    answers = mf_query(mf_project, kpi_demo_warehouse, tmp_path / "monthly.csv", SAMPLE,
                       ["metric_time__month", "department__department_code"])
    with duckdb.connect(str(kpi_demo_warehouse.db), read_only=True) as con:
        expected = con.execute("SELECT kpi_id, period, department_code, value FROM metrics.kpi_series "
                               "WHERE kpi_id IN (SELECT unnest(?::VARCHAR[])) AND value IS NOT NULL", [SAMPLE]).df()
    compared = 0
    for kpi_id in SAMPLE:
        want = expected[expected["kpi_id"] == kpi_id].set_index(["period", "department_code"])["value"].sort_index()
        got = answers.dropna(subset=[kpi_id]).rename(columns={"department__department_code": "department_code"})
        got = got.set_index(["period", "department_code"])[kpi_id].sort_index()
        assert len(want) >= 12 and got.index.equals(want.index), kpi_id
        assert got.to_numpy() == pytest.approx(want.to_numpy(), rel=1e-9), kpi_id
        compared += len(want)
    assert compared > 300


@pytest.mark.slow
def test_mf_on_the_snapshot_pools_quarters_and_matches_independent_311_rates(metrics_runs, kpi_demo_warehouse, mf_project,
                                                                            tmp_path, registry):
    """DBT_TARGET=snapshot: analysts query the published snapshot read-only, beside other readers."""
    snapshot = tmp_path / "citystat.duckdb"
    publish_snapshot(kpi_demo_warehouse.db, snapshot)
    with duckdb.connect(str(snapshot), read_only=True) as reader:  # another reader, e.g. a dashboard
        answers = mf_query(mf_project, kpi_demo_warehouse, tmp_path / "quarters.csv",
                           ["requests_on_time_pct", "pw_on_time_pct", "fin_budget_execution_pct"],
                           ["metric_time__quarter", "department__department_code"],
                           DBT_TARGET="snapshot", CITYSTAT_SNAPSHOT=str(snapshot))
        values = reader.execute("""
            SELECT kpi_id, department_code, strftime(date_trunc('quarter', period_month), '%Y-%m') AS period,
                   100 * sum(numerator) / sum(denominator) AS pooled, arg_max(value, period_month) AS latest
            FROM marts.kpi_values GROUP BY ALL""").df().set_index(["kpi_id", "department_code", "period"]).sort_index()
    answers = answers.rename(columns={"department__department_code": "department_code"})
    pw = answers[answers["department_code"] == "pw"].set_index("period")
    # a quarter of a rate is pooled: sum of numerators / sum of denominators, as dbt computes a month
    assert pw["pw_on_time_pct"].to_numpy() == pytest.approx(values.loc[("pw_on_time_pct", "pw")].loc[pw.index, "pooled"].to_numpy())
    fin = answers[answers["department_code"] == "fin"].set_index("period")
    # a fiscal-year-to-date KPI's quarter is its latest month
    assert fin["fin_budget_execution_pct"].to_numpy() == pytest.approx(
        values.loc[("fin_budget_execution_pct", "fin")].loc[fin.index, "latest"].to_numpy())
    # 311 on-time from the request facts (another semantic model) equals each department's on-time KPI
    compared = 0
    for department in answers["department_code"].dropna().unique():
        kpi_id = f"{department}_on_time_pct"
        if kpi_id not in registry.kpis or registry[kpi_id].source != "computed":
            continue
        rows = answers[(answers["department_code"] == department) & answers["requests_on_time_pct"].notna()].set_index("period")
        assert rows["requests_on_time_pct"].to_numpy() == pytest.approx(
            values.loc[(kpi_id, department)].loc[rows.index, "pooled"].to_numpy()), kpi_id
        compared += 1
    assert compared >= 7
