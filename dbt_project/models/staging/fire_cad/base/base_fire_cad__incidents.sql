{{ config(
    materialized='incremental',
    unique_key='incident_id',
    incremental_strategy='delete+insert',
    tags=['daily'],
) }}

with source as (
    {{ landing_source('fire_cad', 'incidents', window_column=to_timestamp('updated_at')) }}
),

renamed as (
    select
        {{ clean_text('incident_id') }} as incident_id,
        {{ clean_code('incident_type') }} as incident_type,
        {{ to_integer('priority') }} as priority,
        {{ clean_text('station_id') }} as station_id,
        {{ clean_code('district') }} as district,
        {{ redact_contact_details('address') }} as address,
        {{ to_timestamp('alarm_time') }} as alarm_time,
        {{ to_timestamp('dispatch_time') }} as dispatch_time,
        {{ to_timestamp('enroute_time') }} as enroute_time,
        {{ to_timestamp('arrival_time') }} as arrival_time,
        {{ to_timestamp('cleared_time') }} as cleared_time,
        {{ to_timestamp('updated_at') }} as updated_at,
        {{ landing_metadata() }},
        {{ landing_row("source") }} as _raw
    from source
),

checked as (
    select
        {{ without_landing_row() }},
        {{ rule_columns(
            inventory_rules('fire_cad', 'incidents', {
                'incident_id': 'incident_id', 'incident_type': 'incident_type', 'priority': 'priority',
                'station_id': 'station_id', 'district': 'district', 'address': 'address', 'alarm_time': 'alarm_time',
                'dispatch_time': 'dispatch_time', 'enroute_time': 'enroute_time', 'arrival_time': 'arrival_time',
                'cleared_time': 'cleared_time', 'updated_at': 'updated_at',
            })
            + [
                rule_not_before('dispatch_time', 'alarm_time'),
                rule_not_before('enroute_time', 'dispatch_time'),
                rule_not_before('arrival_time', 'enroute_time'),
                rule_not_before('cleared_time', 'alarm_time'),
            ]
        ) }}
    from renamed
),

{{ deduplicated_versions('checked', 'incident_id', 'updated_at desc nulls last') }}
