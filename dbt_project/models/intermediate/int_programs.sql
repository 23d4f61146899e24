-- The city's programme list: every programme that has a budget line, named as in its latest budget.
with budget_lines as (
    select * from {{ ref('stg_fin_erp__budget') }}
)

select
    program_code,
    {{ value_at_max('program_name', 'fiscal_year') }} as program_name,
    {{ value_at_max('department_code', 'fiscal_year') }} as department_code,
    min(fiscal_year) as first_fiscal_year,
    max(fiscal_year) as last_fiscal_year
from budget_lines
group by program_code
