-- Human-services KPIs by month (definitions: seeds/kpi_registry.csv):
--   outcome rates   = share of sites (per programme) whose outcome_value met their outcome_target, 0-100;
--   cost per outcome = sum(monthly_cost) / participants achieving the outcome, where a site's participants
--                      achieving it = enrollment x outcome_value / 100 (outcome_value is a percentage);
--   utilization     = sum(enrollment) / sum(capacity), 0-100.
with sites as (
    select * from {{ ref('fct_programme_site_outcomes') }}
)

select
    case program_code when 'hs_senior_centres' then 'hs_senior_outcome_rate' else 'hs_child_care_outcome_rate' end as kpi_id,
    'hs' as department_code,
    month_start as period_month,
    {{ count_true('outcome_value >= outcome_target') }} as numerator,
    count(outcome_value) as denominator,
    100.0 * {{ count_true('outcome_value >= outcome_target') }} / nullif(count(outcome_value), 0) as value
from sites
where program_code in ('hs_senior_centres', 'hs_child_care')
    and outcome_target is not null
group by 1, 2, 3
union all
select 'hs_cost_per_outcome', 'hs', month_start, sum(monthly_cost), sum(enrollment * outcome_value / 100.0),
    sum(monthly_cost) / nullif(sum(enrollment * outcome_value / 100.0), 0)
from sites
group by 1, 2, 3
union all
select 'hs_enrollment_utilization_pct', 'hs', month_start, sum(enrollment), sum(capacity),
    100.0 * sum(enrollment) / nullif(sum(capacity), 0)
from sites
group by 1, 2, 3
