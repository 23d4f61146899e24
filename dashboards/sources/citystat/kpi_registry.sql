-- The KPI registry for the KPI pages: definition, unit, direction, grain, bands, rule profile and where the
-- value comes from, with the department's name. One row per KPI (about 50).
select
    r.kpi_id,
    r.kpi_name,
    r.department_code,
    d.department_name,
    r.strategic_priority,
    r.kind,
    nullif(r.paired_kpi_id, '') as paired_kpi_id,
    r.unit,
    r.desired_direction,
    r.grain,
    r.yellow_band,
    r.red_band,
    r.critical,
    r.flag_threshold,
    r.min_periods_for_status,
    r.source,
    r.description,
    r.rules_profile
from metrics.kpi_registry r
left join inventory.departments d using (department_code)
