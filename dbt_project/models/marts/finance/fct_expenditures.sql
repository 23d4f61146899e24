{{ config(
    materialized='incremental',
    unique_key='ledger_id',
    incremental_strategy='delete+insert',
    tags=['daily'],
    post_hook=["{{ delete_unstaged('ledger_id', 'stg_fin_erp__expenditures') }}"],
) }}

-- One row per general-ledger expenditure line (reversals are negative lines that undo a mis-posting).

with staged as (
    select * from {{ ref('stg_fin_erp__expenditures') }}
),

lines as (
    {% if is_incremental() %}
    {{ changed_records('staged', 'ledger_id', 'posting_date') }}
    {% else %}
    select * from staged
    {% endif %}
)

select
    ledger_id,
    posting_date,
    cast(date_trunc('month', posting_date) as date) as posting_month,
    fiscal_year,
    fiscal_period,
    {{ fiscal_quarter('posting_date') }} as fiscal_quarter,
    department_code,
    program_code,
    fund,
    account,
    vendor_id,
    amount,
    is_reversal,
    description,
    _load_id,
    _source_file,
    _row_number,
    _extracted_at
from lines
