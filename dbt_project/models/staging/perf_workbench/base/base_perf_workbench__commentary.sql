{{ config(materialized='table') }}

with source as (
    {{ landing_source('perf_workbench', 'commentary') }}
),

renamed as (
    select
        {{ to_integer('id') }} as id,
        {{ clean_code('kpi_id') }} as kpi_id,
        {{ clean_code('department_code') }} as department_code,
        {{ clean_text('period') }} as period,
        {{ clean_text('comment') }} as comment,
        {{ clean_text('author') }} as author,
        {{ to_declared('written_at', 'datetime', {'datetime': '%Y-%m-%d %H:%M:%S', 'timezone': 'UTC'}) }} as written_at,
        {{ landing_metadata() }},
        {{ landing_row("source") }} as _raw
    from source
),

checked as (
    select
        {{ without_landing_row() }},
        {{ rule_columns(inventory_rules('perf_workbench', 'commentary', {
            'id': 'id', 'kpi_id': 'kpi_id', 'department_code': 'department_code', 'period': 'period', 'comment': 'comment', 'author': 'author', 'written_at': 'written_at',
        })) }}
    from renamed
),

{{ deduplicated_versions('checked', 'id', '_extracted_at desc') }}
