-- Sites and outcome KPIs red in most of their last months (the month-by-month evidence JSON stays in the snapshot),
-- with the programme's and the department's names (marts.dim_program) for people, the codes kept as keys.
select
    f.entity_type, f.entity_id, f.entity_name, f.program_code, p.program_name, f.department_code,
    coalesce(p.department_name, f.department_code) as department_name, f.service_area, f.rule, f.red_periods,
    f.window_periods, f.window_start, f.window_end, f.red_period_list, f.latest_status, f.latest_value, f.latest_target,
    f.mean_value_in_window, f.mean_target_in_window
from metrics.failing_programmes f
left join marts.dim_program p using (program_code)
