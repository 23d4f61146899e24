-- Month-end position snapshots: filled or vacant, and for how long (no employee names).
select
    snapshot_date,
    position_id,
    cast(date_trunc('month', snapshot_date) as date) as snapshot_month,
    {{ fiscal_year('snapshot_date') }} as fiscal_year,
    department_code,
    program_code,
    title,
    status,
    status = 'vacant' as is_vacant,
    vacant_since,
    case when status = 'vacant' then {{ days_diff('vacant_since', 'snapshot_date') }} end as days_vacant,
    annual_salary
from {{ ref('stg_fin_erp__positions') }}
