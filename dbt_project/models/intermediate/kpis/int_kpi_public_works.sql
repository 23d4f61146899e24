-- Public Works KPIs: work orders by month; paving by fiscal year to date (definitions: seeds/kpi_registry.csv).
with work_orders as (
    select cast(date_trunc('month', completed_date) as date) as period_month, count(*) as completed
    from {{ ref('fct_work_orders') }}
    where is_completed and completed_date is not null
    group by 1
),

maintenance_spending as (
    select posting_month as period_month, sum(amount) as spent
    from {{ ref('fct_expenditures') }}
    where program_code in ('pw_street_maint', 'pw_streetlights')
    group by 1
),

segments as (
    select * from {{ ref('fct_paving_segments') }} where is_completed and actual_end is not null
),

-- every month of the fiscal years the paving reports cover, up to the last reported week
paving_months as (
    select distinct dates.month_start as period_month, dates.fiscal_year
    from {{ ref('dim_date') }} as dates
    where dates.fiscal_year between (select min({{ fiscal_year('first_report_week') }}) from {{ ref('fct_paving_segments') }})
                                and (select max({{ fiscal_year('last_report_week') }}) from {{ ref('fct_paving_segments') }})
        and dates.month_start <= (select max(last_report_week) from {{ ref('fct_paving_segments') }})
),

paving_fytd as (
    select
        paving_months.period_month,
        sum(segments.length_miles) as miles,
        sum(segments.pci_improvement) as pci_improvement_total,
        count(segments.pci_improvement) as segments_with_pci,
        {{ count_true('segments.rework_required') }} as reworked,
        count(segments.segment_id) as completed_segments
    from paving_months
    left join segments
        on {{ fiscal_year('segments.actual_end') }} = paving_months.fiscal_year
        and segments.actual_end < paving_months.period_month + interval '1 month'
    group by 1
)

select 'pw_work_orders_completed' as kpi_id, 'pw' as department_code, period_month,
    completed as numerator, null as denominator, completed as value
from work_orders
union all
select 'pw_cost_per_work_order', 'pw', work_orders.period_month,
    maintenance_spending.spent, work_orders.completed, maintenance_spending.spent / nullif(work_orders.completed, 0)
from work_orders
inner join maintenance_spending on maintenance_spending.period_month = work_orders.period_month
union all
select 'pw_paving_miles', 'pw', period_month, coalesce(miles, 0), null, coalesce(miles, 0)
from paving_fytd
union all
select 'pw_pci_improvement', 'pw', period_month, pci_improvement_total, segments_with_pci,
    {{ divide('pci_improvement_total', 'nullif(segments_with_pci, 0)') }}
from paving_fytd
union all
select 'pw_paving_rework_pct', 'pw', period_month, reworked, completed_segments, 100.0 * reworked / nullif(completed_segments, 0)
from paving_fytd
