-- Performance office KPI: the share of submitted KPI values received on time (by the 10th of the next month).
select
    'perf_submissions_on_time_pct' as kpi_id,
    'perf' as department_code,
    period_month,
    {{ count_true('submitted_on_time') }} as numerator,
    count(submitted_on_time) as denominator,
    100.0 * {{ count_true('submitted_on_time') }} / nullif(count(submitted_on_time), 0) as value
from {{ ref('fct_kpi_submissions') }}
group by 1, 2, 3
