{{ config(materialized='table') }}

with source as (
    {{ landing_source('fire_cad', 'stations') }}
),

renamed as (
    select
        {{ clean_text('station_id') }} as station_id,
        {{ clean_text('station_name') }} as station_name,
        {{ clean_code('district') }} as district,
        {{ landing_metadata() }},
        {{ landing_row("source") }} as _raw
    from source
),

checked as (
    select
        {{ without_landing_row() }},
        {{ rule_columns(inventory_rules('fire_cad', 'stations', {
            'station_id': 'station_id', 'station_name': 'station_name', 'district': 'district',
        })) }}
    from renamed
),

{{ deduplicated_versions('checked', 'station_id', '_extracted_at desc') }}
