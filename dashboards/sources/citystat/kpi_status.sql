-- One row per KPI and month: value, target and red/yellow/green/gray status.
select
    kpi_id,
    kpi_name,
    department_code,
    period_month,
    value,
    target,
    status
from metrics.kpi_status
