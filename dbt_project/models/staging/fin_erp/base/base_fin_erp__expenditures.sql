{{ config(
    materialized='incremental',
    unique_key='ledger_id',
    incremental_strategy='delete+insert',
    tags=['daily'],
) }}

with source as (
    {{ landing_source('fin_erp', 'expenditures', window_column=to_date('posting_date')) }}
),

renamed as (
    select
        {{ clean_text('ledger_id') }} as ledger_id,
        {{ to_date('posting_date') }} as posting_date,
        {{ to_integer('fiscal_year') }} as fiscal_year,
        {{ to_integer('fiscal_period') }} as fiscal_period,
        {{ clean_code('department_code') }} as department_code,
        {{ clean_code('program_code') }} as program_code,
        {{ clean_code('fund') }} as fund,
        {{ clean_text('account') }} as account,
        {{ clean_text('vendor_id') }} as vendor_id,
        {{ to_money('amount') }} as amount,
        {{ redact_contact_details('description') }} as description,
        {{ clean_text('description') }} like 'Reversal of %' as is_reversal,
        {{ landing_metadata() }},
        {{ landing_row("source") }} as _raw
    from source
),

checked as (
    select
        {{ without_landing_row() }},
        {{ rule_columns(
            inventory_rules('fin_erp', 'expenditures', {
                'ledger_id': 'ledger_id', 'posting_date': 'posting_date', 'fiscal_year': 'fiscal_year',
                'fiscal_period': 'fiscal_period', 'department_code': 'department_code', 'program_code': 'program_code',
                'fund': 'fund', 'account': 'account', 'vendor_id': 'vendor_id', 'amount': 'amount',
                'description': 'description',
            })
            + [
                rule('negative_amount', 'amount < 0 and not is_reversal',
                     "'amount ' || amount || ' is negative and the line is not a reversal'"),
            ]
        ) }}
    from renamed
),

{{ deduplicated_versions('checked', 'ledger_id', '_extracted_at desc') }}
