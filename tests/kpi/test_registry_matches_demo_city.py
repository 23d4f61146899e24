"""The demo city's performance office submits and sets goals on registry KPIs (the seeds are the contract)."""
import datetime as dt

import pandas as pd

from demo_city.core import GenContext
from demo_city.systems import performance_office
from citystat.kpi import goals


def test_submitted_kpis_are_the_registry_submitted_kpis(registry):
    generated = {kpi_id: spec[0] for kpi_id, spec in performance_office.KPIS.items()}
    submitted = {k.id: k.department_code for k in registry.kpis.values() if k.source == "submitted"}
    assert generated == submitted


def test_submission_rows_validate_as_a_kpi_series(registry, tmp_path):
    ctx = GenContext(out=tmp_path, as_of=dt.date(2026, 10, 31))
    rows = performance_office.period_rows(ctx, 2025, 3)
    assert rows and {r["kpi_id"] for r in rows} <= set(registry.kpis)
    from citystat.kpi import series

    records = series.records_from_frame(pd.DataFrame(rows), "kpi_submissions_2025-03.csv")
    assert all(r["period"].label == "2025-03" and r["value"] is not None for r in records)


def test_every_strategic_goal_paces_a_registry_kpi(registry, tmp_path):
    register = pd.DataFrame(performance_office.goal_rows(GenContext(out=tmp_path, as_of=dt.date(2026, 10, 31))))
    parsed = goals.read_goals(register, "strategic_goals.csv")
    assert {g["kpi_id"] for g in parsed} <= set(registry.kpis)
    vacant = next(g for g in parsed if g["goal_id"] == "G-VACANT-1000")
    assert vacant["kpi_id"] == "ce_properties_addressed" and goals.is_cumulative(vacant, registry)
    assert not any(goals.is_cumulative(g, registry) for g in parsed if g["goal_id"] != "G-VACANT-1000")
