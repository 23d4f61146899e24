{{ config(materialized='table') }}

-- One file per fiscal year; a later file for the same year (revised budget) supersedes the earlier lines.
with source as (
    {{ landing_source('fin_erp', 'budget') }}
),

renamed as (
    select
        {{ to_integer('fiscal_year') }} as fiscal_year,
        {{ clean_code('department_code') }} as department_code,
        {{ clean_code('program_code') }} as program_code,
        {{ clean_text('program_name') }} as program_name,
        {{ clean_code('fund') }} as fund,
        {{ clean_text('account') }} as account,
        {{ to_money('adopted_amount') }} as adopted_amount,
        {{ to_money('revised_amount') }} as revised_amount,
        {{ landing_metadata() }},
        {{ landing_row("source") }} as _raw
    from source
),

checked as (
    select
        {{ without_landing_row() }},
        {{ rule_columns(
            inventory_rules('fin_erp', 'budget', {
                'fiscal_year': 'fiscal_year', 'department_code': 'department_code', 'program_code': 'program_code',
                'program_name': 'program_name', 'fund': 'fund', 'account': 'account',
                'adopted_amount': 'adopted_amount', 'revised_amount': 'revised_amount',
            })
            + [rule_not_negative('adopted_amount'), rule_not_negative('revised_amount')]
        ) }}
    from renamed
),

{{ deduplicated_versions('checked', ['fiscal_year', 'program_code', 'fund', 'account'],
                         '_extracted_at desc') }}
