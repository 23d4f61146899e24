-- Human-services KPIs by month: outcome attainment of senior and child-care centres, cost per outcome,
-- places used.
with sites as (
    select * from {{ ref('fct_programme_site_outcomes') }}
)

select
    case program_code when 'hs_senior_centres' then 'hs_senior_outcome_rate' else 'hs_child_care_outcome_rate' end as kpi_id,
    'hs' as department_code,
    month_start as period_month,
    sum(outcome_value) as numerator,
    sum(outcome_target) as denominator,
    100.0 * sum(outcome_value) / nullif(sum(outcome_target), 0) as value
from sites
where program_code in ('hs_senior_centres', 'hs_child_care')
group by all
union all
select 'hs_cost_per_outcome', 'hs', month_start, sum(monthly_cost), sum(outcome_value),
    sum(monthly_cost) / nullif(sum(outcome_value), 0)
from sites
group by all
union all
select 'hs_enrollment_utilization_pct', 'hs', month_start, sum(enrollment), sum(capacity),
    100.0 * sum(enrollment) / nullif(sum(capacity), 0)
from sites
group by all
