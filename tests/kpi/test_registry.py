"""The KPI registry seeds and their validation."""
import shutil

import pytest

from citystat.kpi.problems import ValidationError
from citystat.kpi.registry import REGISTRY_PATH, TARGETS_PATH, load_registry

# Inventory dataset ids from docs/contracts.md ("Inventory ids of the demo systems and datasets")
CONTRACT_DATASETS = {
    "crm311.services", "crm311.service_requests", "pw_mms.work_orders", "pw_mms.crews", "pw_mms.assets",
    "fire_cad.incidents", "fire_cad.stations", "ce_vacant.cases", "ce_vacant.inspections", "fin_erp.budget",
    "fin_erp.expenditures", "fin_erp.positions", "proc_portal.vendors", "proc_portal.contracts",
    "proc_portal.contract_milestones", "pw_paving.paving_reports", "hs_centres.centre_monthly",
    "perf_office.kpi_submissions", "perf_office.strategic_goals", "omb_reference.peer_city_spending",
}


def test_shipped_registry_is_valid_and_covers_the_demo_departments(registry):
    assert len(registry) >= 30
    named_in_issue = {
        "pw_on_time_pct", "cs_on_time_pct", "san_on_time_pct", "wat_on_time_pct", "pw_median_days_to_close",
        "cs_repeat_within_30d_pct", "ce_inspections_per_inspector", "ce_violations_per_inspection",
        "ce_properties_addressed", "fire_turnout_p90_sec", "fire_alarm_to_arrival_p90_sec",
        "pw_potholes_within_sla_pct", "pw_streetlights_within_sla_pct", "pw_paving_miles", "pw_pci_improvement",
        "fin_budget_execution_pct", "hs_senior_outcome_rate", "hs_child_care_outcome_rate", "hs_cost_per_outcome",
    }
    assert named_in_issue <= set(registry.kpis)
    departments = {k.department_code for k in registry.kpis.values()}
    assert {"cs", "pw", "ce", "fire", "fin", "hs", "lib", "parks", "hr", "it", "law", "clerk", "plan"} <= departments
    assert {k.kind for k in registry.kpis.values()} == {"output", "outcome", "efficiency"}
    assert {k.source for k in registry.kpis.values()} == {"computed", "submitted"}


def test_outputs_sit_beside_outcomes(registry):
    assert registry["ce_inspections_per_inspector"].paired_kpi_id == "ce_violations_per_inspection"
    assert registry["pw_paving_miles"].paired_kpi_id == "pw_pci_improvement"
    for kpi in registry.kpis.values():
        if kpi.kind == "output":
            assert registry[kpi.paired_kpi_id].kind == "outcome", kpi.id


def test_lineage_names_contract_datasets(registry):
    for kpi in registry.kpis.values():
        assert kpi.lineage and set(kpi.lineage) <= CONTRACT_DATASETS, kpi.id
        if kpi.source == "submitted":
            assert "perf_office.kpi_submissions" in kpi.lineage


def test_targets_cover_directed_kpis(registry):
    directed = [k.id for k in registry.kpis.values() if k.desired_direction != "none"]
    assert all(registry.target_for(k, 2026) is not None for k in directed)
    assert registry.target_for("pw_on_time_pct", 2026) == 90
    assert registry.target_for("cs_requests_received", 2026) is None  # direction none: no target
    assert registry.target_for("perf_submissions_on_time_pct", 2024) is None  # a new KPI: no target that year
    assert len(registry.targets_frame()) == len(registry.targets)


def _copy_seeds(tmp_path):
    registry, targets = tmp_path / "kpi_registry.csv", tmp_path / "kpi_targets.csv"
    shutil.copy(REGISTRY_PATH, registry)
    shutil.copy(TARGETS_PATH, targets)
    return registry, targets


def _edit(path, old, new):
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new, 1))


def _problems(excinfo):
    return [str(p) for p in excinfo.value.problems]


def _line_of(path, prefix):
    return next(i for i, line in enumerate(path.read_text().splitlines(), start=1) if line.startswith(prefix))


def test_bad_registry_rows_are_reported_with_file_line_and_field(tmp_path):
    registry, targets = _copy_seeds(tmp_path)
    _edit(registry, "cs_on_time_pct,311 requests closed on time (citywide),cs,Responsive city services,outcome,",
          "cs_on_time_pct,311 requests closed on time (citywide),cs,Responsive city services,result,")
    _edit(registry, "fire_turnout_p90_sec,Fire turnout time (90th percentile),fire,Safe neighborhoods,efficiency,,seconds,down,month,0.10,,true,",
          "fire_turnout_p90_sec,Fire turnout time (90th percentile),fire,Safe neighborhoods,efficiency,,seconds,down,month,0.10,0.05,yes,")
    _edit(registry, "pw_paving_miles,Lane miles resurfaced (fiscal year to date),pw,Quality infrastructure,output,pw_pci_improvement,",
          "pw_paving_miles,Lane miles resurfaced (fiscal year to date),pw,Quality infrastructure,output,,")
    with pytest.raises(ValidationError) as excinfo:
        load_registry(registry, targets)
    problems = _problems(excinfo)
    cs_line = _line_of(registry, "cs_on_time_pct,")
    fire_line = _line_of(registry, "fire_turnout_p90_sec,")
    paving_line = _line_of(registry, "pw_paving_miles,")
    assert f"{registry} line {cs_line}: kind: 'result' is not one of output, outcome, efficiency" in problems
    assert f"{registry} line {fire_line}: red_band: 0.05 is narrower than yellow_band 0.1" in problems
    assert f"{registry} line {fire_line}: critical: 'yes' is not true or false" in problems
    assert any(p.startswith(f"{registry} line {paving_line}: paired_kpi_id: output KPI pw_paving_miles") for p in problems)
    assert str(registry) in str(excinfo.value)


def test_duplicate_id_wrong_prefix_and_unknown_pair(tmp_path):
    registry, targets = _copy_seeds(tmp_path)
    with registry.open("a") as handle:
        handle.write("pw_on_time_pct,dup,pw,P,outcome,,pct,up,month,,,false,,,crm311.service_requests,computed,d\n")
        handle.write("lib_hours,Hours,pw,P,outcome,,hours,up,month,,,false,,,crm311.service_requests,computed,d\n")
        handle.write("pw_things,Things,pw,P,output,pw_nothing,count,up,month,,,false,,,crm311.service_requests,computed,d\n")
        handle.write("pw_sub,Sub,pw,P,outcome,,pct,up,month,,,false,,,crm311.service_requests,submitted,d\n")
    with pytest.raises(ValidationError) as excinfo:
        load_registry(registry, targets)
    text = "\n".join(_problems(excinfo))
    assert "id: pw_on_time_pct is defined twice (first on line" in text
    assert "id: 'lib_hours' must start with its department code 'pw_'" in text
    assert "paired_kpi_id: 'pw_nothing' is not a KPI id in this registry" in text
    assert "lineage: a submitted KPI must list perf_office.kpi_submissions" in text


def test_missing_column_is_one_clear_problem(tmp_path):
    registry, targets = _copy_seeds(tmp_path)
    _edit(registry, ",flag_threshold,", ",flag_thresh,")
    with pytest.raises(ValidationError) as excinfo:
        load_registry(registry, targets)
    assert _problems(excinfo) == [f"{registry} line 1: header: missing column(s) flag_threshold; unknown column(s) flag_thresh"]


def test_bad_targets_are_reported(tmp_path):
    registry, targets = _copy_seeds(tmp_path)
    with targets.open("a") as handle:
        handle.write("pw_on_time_pct,2026,95\n")          # duplicate of an existing row
        handle.write("pw_nothing,2026,1\n")               # unknown KPI
        handle.write("cs_requests_received,2026,1000\n")  # direction none
        handle.write("pw_on_time_pct,20x6,95\n")          # bad year
        handle.write("pw_potholes_within_sla_pct,2030,\n")  # blank target
    with pytest.raises(ValidationError) as excinfo:
        load_registry(registry, targets)
    text = "\n".join(_problems(excinfo))
    n = len(targets.read_text().splitlines())
    assert f"line {n - 4}: fiscal_year: second target for pw_on_time_pct FY2026 (first on line" in text
    assert f"line {n - 3}: kpi_id: 'pw_nothing' is not in the KPI registry" in text
    assert f"line {n - 2}: kpi_id: cs_requests_received has desired_direction none" in text
    assert f"line {n - 1}: fiscal_year: '20x6' is not a whole number" in text
    assert f"line {n}: target: is required" in text


def test_departments_are_the_inventorys(tmp_path):
    from data_inventory import load_inventory
    from citystat.kpi.registry import inventory_departments

    assert inventory_departments() == {d.id for d in load_inventory().departments}


def test_unknown_department_names_the_row_and_field(tmp_path):
    registry, targets = _copy_seeds(tmp_path)
    with registry.open("a") as handle:
        handle.write("zoo_visits,Visits,zoo,P,outcome,,count,up,month,,,false,,,crm311.service_requests,computed,d\n")
    line = _line_of(registry, "zoo_visits,")
    with pytest.raises(ValidationError) as excinfo:
        load_registry(registry, targets)
    assert any(p.startswith(f"{registry} line {line}: department_code: 'zoo' is not a department of the data inventory (one of ")
               for p in _problems(excinfo)), _problems(excinfo)
