{{ config(materialized='table') }}

with source as (
    {{ landing_source('crm311', 'services') }}
),

renamed as (
    select
        upper({{ clean_text('service_code') }}) as service_code,
        {{ clean_text('service_name') }} as service_name,
        {{ clean_text('description') }} as service_description,
        {{ clean_text('"group"') }} as service_group,
        {{ clean_text('keywords') }} as keywords,
        {{ clean_text('type') }} as service_type,
        {{ to_boolean('metadata') }} as has_metadata,
        -- CityStat's extensions of GeoReport v2; NULL when the CRM does not publish them
        {{ clean_code('agency_responsible') }} as department_code,
        {{ to_number('sla_days') }} as sla_days,
        {{ landing_metadata() }},
        {{ landing_row("source") }} as _raw
    from source
),

checked as (
    select
        {{ without_landing_row() }},
        {{ rule_columns(inventory_rules('crm311', 'services', {
            'service_code': 'service_code', 'service_name': 'service_name', 'description': 'service_description',
            'group': 'service_group', 'keywords': 'keywords', 'type': 'service_type', 'metadata': 'has_metadata',
            'agency_responsible': 'department_code', 'sla_days': 'sla_days',
        })) }}
    from renamed
),

{{ deduplicated_versions('checked', 'service_code', '_extracted_at desc') }}
