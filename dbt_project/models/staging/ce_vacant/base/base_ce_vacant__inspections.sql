{#- Incremental on DuckDB; PostgreSQL builds it whole as before (not yet tested incremental there). -#}
{{ config(
    materialized='incremental' if target.type == 'duckdb' else 'table',
    unique_key='inspection_id',
    incremental_strategy='delete+insert',
    tags=['daily'],
) }}

with source as (
    {{ landing_source('ce_vacant', 'inspections', window_column=to_date('inspection_date')) }}
),

renamed as (
    select
        {{ clean_text('inspection_id') }} as inspection_id,
        {{ clean_text('case_id') }} as case_id,
        {{ to_date('inspection_date') }} as inspection_date,
        {{ clean_text('inspector_id') }} as inspector_id,
        {{ to_integer('violations_found') }} as violations_found,
        {{ clean_code('result') }} as result,
        {{ redact_contact_details('notes') }} as notes,
        {{ landing_metadata() }},
        {{ landing_row("source") }} as _raw
    from source
),

checked as (
    select
        {{ without_landing_row() }},
        {{ rule_columns(inventory_rules('ce_vacant', 'inspections', {
            'inspection_id': 'inspection_id', 'case_id': 'case_id', 'inspection_date': 'inspection_date',
            'inspector_id': 'inspector_id', 'violations_found': 'violations_found', 'result': 'result', 'notes': 'notes',
        })) }}
    from renamed
),

{{ deduplicated_versions('checked', 'inspection_id', '_extracted_at desc') }}
