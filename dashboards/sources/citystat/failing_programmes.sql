-- Sites and outcome KPIs red in most of their last months (the month-by-month evidence JSON stays in the snapshot),
-- with the programmes' and the department's names for people (a KPI row lists its programmes' codes, "a, b"), the
-- codes kept as keys, and the unit of the values (the KPI's; a site's outcome measure "pct_..." is a percentage).
select
    f.entity_type, f.entity_id, f.entity_name, f.program_code,
    (select string_agg(p.program_name, ', ' order by p.program_name) from marts.dim_program p
     where list_contains(string_split(f.program_code, ', '), p.program_code)) as program_name,
    f.department_code, coalesce(d.department_name, f.department_code) as department_name, f.service_area, f.rule,
    f.red_periods, f.window_periods, f.window_start, f.window_end, f.red_period_list, f.latest_status, f.latest_value,
    f.latest_target, f.mean_value_in_window, f.mean_target_in_window,
    case when f.entity_type = 'kpi' then f.entity_id end as kpi_id,
    coalesce(r.unit, case when f.outcome_measure like 'pct\_%' escape '\' then 'pct' end) as unit
from metrics.failing_programmes f
left join inventory.departments d using (department_code)
left join metrics.kpi_registry r on f.entity_type = 'kpi' and r.kpi_id = f.entity_id
