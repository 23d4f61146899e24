-- The CityScore-style index citywide and by department, by month and fiscal quarter (KPI rows and
-- day/week buckets stay in the snapshot: the pages show the monthly and quarterly picture).
select grain, period, period_start, level, department_code, score, metrics_scored
from metrics.cityscore
where level in ('citywide', 'department') and grain in ('month', 'quarter')
