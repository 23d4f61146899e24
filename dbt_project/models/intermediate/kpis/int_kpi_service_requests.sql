-- 311 KPIs by month (definitions: seeds/kpi_registry.csv). Percentages are 0-100.
with requests as (
    select
        *,
        cast(date_trunc('month', closed_date) as date) as closed_month,
        cast(date_trunc('month', requested_date) as date) as requested_month
    from {{ ref('fct_service_requests') }}
),

closed as (
    select * from requests where closed_at is not null
),

by_department as (
    select department_code, closed_month, closed_on_time, days_to_close from closed
    union all
    select 'cs', closed_month, closed_on_time, days_to_close from closed  -- citywide, owned by 311
),

on_time as (
    select
        department_code || '_on_time_pct' as kpi_id,
        department_code,
        closed_month as period_month,
        {{ count_true('closed_on_time') }} as numerator,
        count(closed_on_time) as denominator
    from by_department
    group by 1, 2, 3
),

median_days as (
    select
        department_code || '_median_days_to_close' as kpi_id,
        department_code,
        closed_month as period_month,
        cast(null as bigint) as numerator,
        count(days_to_close) as denominator,
        {{ median_of('days_to_close') }} as value
    from by_department
    group by 1, 2, 3
),

within_sla as (
    select
        case service_code when 'POTHOLE' then 'pw_potholes_within_sla_pct' else 'pw_streetlights_within_sla_pct' end as kpi_id,
        'pw' as department_code,
        closed_month as period_month,
        {{ count_true('closed_on_time') }} as numerator,
        count(closed_on_time) as denominator
    from closed
    where service_code in ('POTHOLE', 'STREETLIGHT')
    group by 1, 2, 3
),

received as (
    select
        'cs_requests_received' as kpi_id,
        'cs' as department_code,
        requested_month as period_month,
        count(*) as numerator,
        cast(null as bigint) as denominator,
        count(*) as value
    from requests
    group by 1, 2, 3
),

repeats as (
    select
        'cs_repeat_within_30d_pct' as kpi_id,
        'cs' as department_code,
        requested_month as period_month,
        {{ count_true('is_repeat_within_30d') }} as numerator,
        count(*) as denominator
    from requests
    group by 1, 2, 3
)

select kpi_id, department_code, period_month, numerator, denominator, 100.0 * numerator / nullif(denominator, 0) as value
from on_time
union all
select kpi_id, department_code, period_month, numerator, denominator, value from median_days
union all
select kpi_id, department_code, period_month, numerator, denominator, 100.0 * numerator / nullif(denominator, 0)
from within_sla
union all
select * from received
union all
select kpi_id, department_code, period_month, numerator, denominator, 100.0 * numerator / nullif(denominator, 0) from repeats
