-- Adopted and revised budget by fiscal year, department, programme, fund and account.
select
    {{ dbt.concat(["cast(fiscal_year as varchar)", "'|'", "program_code", "'|'", "fund", "'|'", "account"]) }} as budget_line_id,
    fiscal_year,
    department_code,
    program_code,
    program_name,
    fund,
    account,
    adopted_amount,
    revised_amount,
    revised_amount - adopted_amount as revision_amount
from {{ ref('stg_fin_erp__budget') }}
