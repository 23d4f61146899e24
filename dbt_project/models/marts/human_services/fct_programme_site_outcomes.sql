-- Human-services sites (senior centres, child-care centres) by month: capacity and enrollment, the
-- outcome measured against its target, and cost per place and per outcome.
with sites as (
    select * from {{ ref('stg_hs_centres__centre_monthly') }}
)

select
    {{ dbt.concat(["site_id", "'|'", year_month_text('month_start')]) }} as site_month_id,
    month_start,
    {{ fiscal_year('month_start') }} as fiscal_year,
    site_id,
    site_name,
    program_code,
    service_area,
    capacity,
    enrollment,
    {{ divide('enrollment', 'nullif(capacity, 0)') }} as utilization,
    capacity - enrollment as spare_places,
    outcome_measure,
    outcome_target,
    outcome_value,
    outcome_value >= outcome_target as met_target,
    {{ divide('outcome_value', 'nullif(outcome_target, 0)') }} as outcome_attainment,
    monthly_cost,
    monthly_cost / nullif(enrollment, 0) as cost_per_enrolled,
    monthly_cost / nullif(outcome_value, 0) as cost_per_outcome
from sites
