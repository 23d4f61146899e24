{{ config(materialized='table') }}

with source as (
    {{ landing_source('hs_centres', 'centre_monthly') }}
),

renamed as (
    select
        {{ to_month_start('month') }} as month_start,
        {{ clean_text('site_id') }} as site_id,
        {{ clean_text('site_name') }} as site_name,
        {{ clean_code('program_code') }} as program_code,
        {{ clean_code('service_area') }} as service_area,
        {{ to_integer('capacity') }} as capacity,
        {{ to_integer('enrollment') }} as enrollment,
        {{ clean_text('outcome_measure') }} as outcome_measure,
        {{ to_number('outcome_target') }} as outcome_target,
        {{ to_number('outcome_value') }} as outcome_value,
        {{ to_money('monthly_cost') }} as monthly_cost,
        {{ landing_metadata() }},
        {{ landing_row("source") }} as _raw
    from source
),

checked as (
    select
        {{ without_landing_row() }},
        {{ rule_columns(inventory_rules('hs_centres', 'centre_monthly', {
            'month': 'month_start', 'site_id': 'site_id', 'site_name': 'site_name', 'program_code': 'program_code',
            'service_area': 'service_area', 'capacity': 'capacity', 'enrollment': 'enrollment',
            'outcome_measure': 'outcome_measure', 'outcome_target': 'outcome_target', 'outcome_value': 'outcome_value',
            'monthly_cost': 'monthly_cost',
        })) }}
    from renamed
),

{{ deduplicated_versions('checked', ['month_start', 'site_id'], '_extracted_at desc') }}
