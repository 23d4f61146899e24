-- The city's public, time-bound strategic goals (e.g. 1,000 vacant properties addressed in 1,000 days).
select
    goal_id, title, kpi_id, department_code, baseline, target_value, unit, start_date, deadline,
    {{ days_diff('start_date', 'deadline') }} as days_allowed,
    owner
from {{ ref('stg_perf_office__strategic_goals') }}
