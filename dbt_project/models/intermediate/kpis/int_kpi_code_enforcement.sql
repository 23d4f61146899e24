-- Code Enforcement KPIs by month: inspections (volume) beside what they find (outcome), properties addressed.
with inspections as (
    select
        inspection_month as period_month,
        count(*) as inspections,
        count(distinct inspector_id) as inspectors,
        sum(violations_found) as violations
    from {{ ref('fct_inspections') }}
    group by 1
),

addressed as (
    select
        closure_month as period_month,
        count(*) as properties,
        {{ median_of('days_to_address') }} as median_days,
        count(days_to_address) as with_days
    from {{ ref('fct_code_cases') }}
    where is_addressed and closure_month is not null
    group by 1
)

select 'ce_inspections_per_inspector' as kpi_id, 'ce' as department_code, period_month,
    inspections as numerator, inspectors as denominator, {{ divide('inspections', 'nullif(inspectors, 0)') }} as value
from inspections
union all
select 'ce_violations_per_inspection', 'ce', period_month, violations, inspections, {{ divide('violations', 'nullif(inspections, 0)') }}
from inspections
union all
select 'ce_properties_addressed', 'ce', period_month, properties, null, properties
from addressed
union all
select 'ce_properties_addressed_cumulative', 'ce', period_month,
    sum(properties) over (order by period_month), null, sum(properties) over (order by period_month)
from addressed
union all
select 'ce_median_days_to_address', 'ce', period_month, null, with_days, median_days
from addressed
