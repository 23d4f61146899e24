-- KPI values submitted by departments without a feed (performance office template). Kept apart from
-- computed values; who submitted is not carried (personal data).
select
    {{ dbt.concat(["kpi_id", "'|'", year_month_text('period_month')]) }} as submission_id,
    kpi_id,
    department_code,
    period_month,
    {{ fiscal_year('period_month') }} as fiscal_year,
    value,
    numerator,
    denominator,
    submitted_at,
    -- on time: by the 10th of the month after the period
    submitted_at < period_month + interval '1 month' + interval '10 day' as submitted_on_time,
    notes,
    'submitted' as source
from {{ ref('stg_perf_office__kpi_submissions') }}
