{{ config(materialized='table') }}

with source as (
    {{ landing_source('proc_portal', 'contracts') }}
),

renamed as (
    select
        {{ clean_text('contract_id') }} as contract_id,
        {{ clean_text('vendor_id') }} as vendor_id,
        {{ clean_text('title') }} as title,
        {{ clean_code('department_code') }} as department_code,
        {{ clean_code('program_code') }} as program_code,
        {{ clean_code('contract_type') }} as contract_type,
        {{ to_integer('season_year') }} as season_year,
        {{ clean_code('region') }} as region,
        {{ to_date('start_date') }} as start_date,
        {{ to_date('end_date') }} as end_date,
        {{ to_money('total_value') }} as total_value,
        {{ to_money('base_payment') }} as base_payment,
        {{ to_money('performance_pool') }} as performance_pool,
        {{ to_money('penalty_per_day_late') }} as penalty_per_day_late,
        {{ to_money('penalty_per_incident') }} as penalty_per_incident,
        {{ to_integer('warranty_months') }} as warranty_months,
        {{ to_number('planned_miles') }} as planned_miles,
        {{ clean_code('status') }} as status,
        {{ clean_text('":id"') }} as soda_row_id,
        {{ to_local_timestamp('":updated_at"') }} as updated_at,
        {{ landing_metadata() }},
        {{ landing_row("source") }} as _raw
    from source
),

checked as (
    select
        {{ without_landing_row() }},
        {{ rule_columns(
            inventory_rules('proc_portal', 'contracts', {
                'contract_id': 'contract_id', 'vendor_id': 'vendor_id', 'title': 'title',
                'department_code': 'department_code', 'program_code': 'program_code', 'contract_type': 'contract_type',
                'season_year': 'season_year', 'region': 'region', 'start_date': 'start_date', 'end_date': 'end_date',
                'total_value': 'total_value', 'base_payment': 'base_payment', 'performance_pool': 'performance_pool',
                'penalty_per_day_late': 'penalty_per_day_late', 'penalty_per_incident': 'penalty_per_incident',
                'warranty_months': 'warranty_months', 'planned_miles': 'planned_miles', 'status': 'status',
                ':id': 'soda_row_id', ':updated_at': 'updated_at',
            })
            + [
                rule_not_before('end_date', 'start_date'),
                rule_not_negative('total_value'),
                rule_not_negative('base_payment'),
                rule_not_negative('performance_pool'),
            ]
        ) }}
    from renamed
),

{{ deduplicated_versions('checked', 'contract_id', 'updated_at desc nulls last') }}
