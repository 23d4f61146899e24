-- Finance, HR and procurement KPIs. Budget execution and spending per resident are fiscal year to date
-- at each month end; execution compares with the revised budget prorated by fiscal month.
with spending as (
    select fiscal_year, fiscal_period, posting_month as period_month, department_code, sum(amount) as spent
    from {{ ref('fct_expenditures') }}
    group by 1, 2, 3, 4
),

months as (
    select distinct fiscal_year, fiscal_period, period_month from spending
),

budget as (
    select fiscal_year, department_code, sum(revised_amount) as revised
    from {{ ref('fct_budget_lines') }}
    group by 1, 2
),

departments as (
    select distinct fiscal_year, department_code from budget
    union
    select distinct fiscal_year, department_code from spending
),

fytd as (
    select
        months.period_month,
        months.fiscal_period,
        departments.department_code,
        sum(spending.spent) as spent_fytd,
        max(budget.revised) as revised  -- one budget row per department and year
    from months
    inner join departments on departments.fiscal_year = months.fiscal_year
    left join spending
        on spending.fiscal_year = months.fiscal_year
        and spending.department_code = departments.department_code
        and spending.fiscal_period <= months.fiscal_period
    left join budget
        on budget.fiscal_year = months.fiscal_year and budget.department_code = departments.department_code
    group by 1, 2, 3
),

positions as (
    select snapshot_month as period_month, {{ count_true('is_vacant') }} as vacant, count(*) as positions
    from {{ ref('fct_positions') }}
    group by 1
),

milestone_months as (
    select distinct dates.month_start as period_month, dates.fiscal_year
    from {{ ref('dim_date') }} as dates
    where dates.date_day between (select min(due_date) from {{ ref('fct_contract_milestones') }} where is_met is not null)
                             and (select max(due_date) from {{ ref('fct_contract_milestones') }} where is_met is not null)
),

milestones as (
    select
        milestone_months.period_month,
        {{ count_true('ms.is_met') }} as met,
        count(ms.is_met) as scored
    from milestone_months
    inner join {{ ref('fct_contract_milestones') }} as ms
        on ms.due_fiscal_year = milestone_months.fiscal_year
        and ms.due_date < milestone_months.period_month + interval '1 month'
    group by 1
)

select 'fin_budget_execution_pct' as kpi_id, 'fin' as department_code, period_month,
    sum(coalesce(spent_fytd, 0)) as numerator,
    sum(revised) * max(fiscal_period) / 12 as denominator,
    100.0 * sum(coalesce(spent_fytd, 0)) / nullif(sum(revised) * max(fiscal_period) / 12, 0) as value
from fytd
group by period_month
union all
select department_code || '_budget_execution_pct', department_code, period_month,
    coalesce(spent_fytd, 0), revised * fiscal_period / 12, 100.0 * coalesce(spent_fytd, 0) / nullif(revised * fiscal_period / 12, 0)
from fytd
where department_code <> 'fin'
union all
select department_code || '_spending_per_capita', department_code, period_month,
    coalesce(spent_fytd, 0), {{ var('city_population') }}, coalesce(spent_fytd, 0) / {{ var('city_population') }}
from fytd
union all
select 'hr_position_vacancy_pct', 'hr', period_month, vacant, positions, 100.0 * vacant / nullif(positions, 0)
from positions
union all
select 'proc_milestones_met_pct', 'proc', period_month, met, scored, 100.0 * met / nullif(scored, 0)
from milestones
