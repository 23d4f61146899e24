{#- Incremental on DuckDB; PostgreSQL builds it whole as before (not yet tested incremental there). -#}
{{ config(
    materialized='incremental' if target.type == 'duckdb' else 'table',
    unique_key='case_id',
    incremental_strategy='delete+insert',
    tags=['daily'],
) }}

-- Daily exports of the cases created or changed that day; the latest update of a case is its state.
with source as (
    {{ landing_source('ce_vacant', 'cases', window_column=to_timestamp('updated_at')) }}
),

renamed as (
    select
        {{ clean_text('case_id') }} as case_id,
        {{ clean_text('property_id') }} as property_id,
        {{ clean_text('parcel_address') }} as parcel_address,
        {{ clean_code('district') }} as district,
        {{ to_date('opened_date') }} as opened_date,
        {{ clean_code('status') }} as status,
        {{ clean_code('outcome') }} as outcome,
        {{ to_date('closure_date') }} as closure_date,
        {{ clean_text('evidence_photo_url') }} as evidence_photo_url,
        {{ clean_text('inspector_id') }} as inspector_id,
        {{ to_timestamp('updated_at') }} as updated_at,
        {{ landing_metadata() }},
        {{ landing_row("source") }} as _raw
    from source
),

-- South Bend's lesson: "addressed" needs a closure date, an outcome and a photo of the property.
checked as (
    select
        {{ without_landing_row() }},
        {{ rule_columns(
            inventory_rules('ce_vacant', 'cases', {
                'case_id': 'case_id', 'property_id': 'property_id', 'parcel_address': 'parcel_address',
                'district': 'district', 'opened_date': 'opened_date', 'status': 'status', 'outcome': 'outcome',
                'closure_date': 'closure_date', 'evidence_photo_url': 'evidence_photo_url',
                'inspector_id': 'inspector_id', 'updated_at': 'updated_at',
            })
            + [
                rule('addressed_without_evidence',
                     "status = 'addressed' and (closure_date is null or evidence_photo_url is null or outcome is null)",
                     "'case marked addressed without ' || concat_ws(', ', case when closure_date is null then 'closure_date' end, "
                     ~ "case when evidence_photo_url is null then 'evidence_photo_url' end, case when outcome is null then 'outcome' end)"),
                rule_not_before('closure_date', 'opened_date'),
            ]
        ) }}
    from renamed
),

{{ deduplicated_versions('checked', 'case_id', 'updated_at desc nulls last') }}
