{{ config(materialized='table') }}

with source as (
    {{ landing_source('pw_mms', 'assets') }}
),

renamed as (
    select
        {{ clean_text('asset_id') }} as asset_id,
        {{ clean_code('asset_type') }} as asset_type,
        {{ clean_text('street_name') }} as street_name,
        {{ clean_code('district') }} as district,
        {{ to_number('lat') }} as latitude,
        {{ to_number('lon') }} as longitude,
        {{ to_integer('installed_year') }} as installed_year,
        {{ landing_metadata() }},
        {{ landing_row("source") }} as _raw
    from source
),

checked as (
    select
        {{ without_landing_row() }},
        {{ rule_columns(inventory_rules('pw_mms', 'assets', {
            'asset_id': 'asset_id', 'asset_type': 'asset_type', 'street_name': 'street_name', 'district': 'district',
            'lat': 'latitude', 'lon': 'longitude', 'installed_year': 'installed_year',
        })) }}
    from renamed
),

{{ deduplicated_versions('checked', 'asset_id', '_extracted_at desc') }}
