{{ config(materialized='table') }}

with source as (
    {{ landing_source('pw_mms', 'crews') }}
),

renamed as (
    select
        {{ clean_text('crew_id') }} as crew_id,
        {{ clean_text('crew_name') }} as crew_name,
        {{ clean_code('district') }} as district,
        {{ to_integer('crew_size') }} as crew_size,
        {{ landing_metadata() }},
        {{ landing_row("source") }} as _raw
    from source
),

checked as (
    select
        {{ without_landing_row() }},
        {{ rule_columns(inventory_rules('pw_mms', 'crews', {
            'crew_id': 'crew_id', 'crew_name': 'crew_name', 'district': 'district', 'crew_size': 'crew_size',
        })) }}
    from renamed
),

{{ deduplicated_versions('checked', 'crew_id', '_extracted_at desc') }}
