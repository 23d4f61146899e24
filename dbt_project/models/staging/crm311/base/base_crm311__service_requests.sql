{{ config(
    materialized='incremental',
    unique_key='service_request_id',
    incremental_strategy='delete+insert',
    tags=['daily'],
) }}

with source as (
    {{ landing_source('crm311', 'service_requests', window_column=to_local_timestamp('updated_datetime')) }}
),

renamed as (
    select
        {{ clean_text('service_request_id') }} as service_request_id,
        upper({{ clean_text('service_code') }}) as service_code,
        {{ clean_text('service_name') }} as service_name,
        {{ clean_code('agency_responsible') }} as department_code,
        {{ clean_code('status') }} as status,
        {{ redact_contact_details('status_notes') }} as status_notes,
        {{ redact_contact_details('description') }} as description,
        {{ clean_text('service_notice') }} as service_notice,
        {{ to_local_timestamp('requested_datetime') }} as requested_at,
        {{ to_local_timestamp('updated_datetime') }} as updated_at,
        {{ to_local_timestamp('expected_datetime') }} as expected_at,
        {{ to_local_timestamp('closed_datetime') }} as closed_at,
        {{ clean_text('address') }} as address,
        {{ clean_text('address_id') }} as address_id,
        {{ clean_text('zipcode') }} as zipcode,
        {{ to_number('lat') }} as latitude,
        {{ to_number('long') }} as longitude,
        {{ clean_text('media_url') }} as media_url,
        {{ landing_metadata() }},
        {{ landing_row("source") }} as _raw
    from source
),

checked as (
    select
        {{ without_landing_row() }},
        {{ rule_columns(
            inventory_rules('crm311', 'service_requests', {
                'service_request_id': 'service_request_id', 'service_code': 'service_code',
                'service_name': 'service_name', 'agency_responsible': 'department_code', 'status': 'status',
                'requested_datetime': 'requested_at', 'updated_datetime': 'updated_at',
                'expected_datetime': 'expected_at', 'closed_datetime': 'closed_at', 'address_id': 'address_id',
                'zipcode': 'zipcode', 'lat': 'latitude', 'long': 'longitude',
            })
            + [
                rule_not_before('closed_at', 'requested_at'),
                rule('missing_required', "status = 'closed' and closed_at is null",
                     "'closed request has no closed_datetime'"),
            ]
        ) }}
    from renamed
),

{{ deduplicated_versions('checked', 'service_request_id', 'updated_at desc nulls last') }}
