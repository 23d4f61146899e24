-- Strategic goals with their pacing on the as-of date (one row per goal).
select
    goal_id, title, kpi_id, department_code, owner, measure, as_of, start_date, deadline, baseline, target_value,
    current_value, progress, elapsed_share, days_elapsed, days_total, days_remaining, pace_needed_per_day,
    actual_pace_per_day, pace_to_finish_per_day, projected_completion_date, status
from metrics.goal_progress
