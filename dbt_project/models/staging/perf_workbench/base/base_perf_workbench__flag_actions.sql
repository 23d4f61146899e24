{{ config(materialized='table') }}

with source as (
    {{ landing_source('perf_workbench', 'flag_actions') }}
),

renamed as (
    select
        {{ to_integer('id') }} as id,
        {{ clean_text('flag_id') }} as flag_id,
        {{ clean_code('kpi_id') }} as kpi_id,
        {{ clean_text('period') }} as period,
        {{ clean_code('department_code') }} as department_code,
        {{ clean_code('kind') }} as kind,
        {{ clean_code('status') }} as status,
        {{ clean_text('owner') }} as owner,
        {{ clean_text('action') }} as action,
        {{ to_date('due_date') }} as due_date,
        {{ clean_code('follow_up') }} as follow_up,
        {{ clean_text('escalated_to') }} as escalated_to,
        {{ clean_text('reason') }} as reason,
        {{ clean_text('actor') }} as actor,
        {{ to_declared('acted_at', 'datetime', {'datetime': '%Y-%m-%d %H:%M:%S', 'timezone': 'UTC'}) }} as acted_at,
        {{ landing_metadata() }},
        {{ landing_row("source") }} as _raw
    from source
),

checked as (
    select
        {{ without_landing_row() }},
        {{ rule_columns(inventory_rules('perf_workbench', 'flag_actions', {
            'id': 'id', 'flag_id': 'flag_id', 'kpi_id': 'kpi_id', 'period': 'period', 'department_code': 'department_code', 'kind': 'kind', 'status': 'status', 'owner': 'owner', 'action': 'action', 'due_date': 'due_date', 'follow_up': 'follow_up', 'escalated_to': 'escalated_to', 'reason': 'reason', 'actor': 'actor', 'acted_at': 'acted_at',
        })) }}
    from renamed
),

{{ deduplicated_versions('checked', 'id', '_extracted_at desc') }}
