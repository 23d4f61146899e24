-- Sites and outcome KPIs red in most of their last months (the month-by-month evidence JSON stays in the snapshot).
select
    entity_type, entity_id, entity_name, program_code, department_code, service_area, rule, red_periods,
    window_periods, window_start, window_end, red_period_list, latest_status, latest_value, latest_target,
    mean_value_in_window, mean_target_in_window
from metrics.failing_programmes
