{{ config(materialized='table') }}

with source as (
    {{ landing_source('perf_office', 'strategic_goals') }}
),

renamed as (
    select
        {{ clean_text('goal_id') }} as goal_id,
        {{ clean_text('title') }} as title,
        {{ clean_code('kpi_id') }} as kpi_id,
        {{ clean_code('department_code') }} as department_code,
        {{ to_number('baseline') }} as baseline,
        {{ to_number('target_value') }} as target_value,
        {{ clean_text('unit') }} as unit,
        {{ to_date('start_date') }} as start_date,
        {{ to_date('deadline') }} as deadline,
        {{ clean_text('owner') }} as owner,
        {{ landing_metadata() }},
        {{ landing_row("source") }} as _raw
    from source
),

checked as (
    select
        {{ without_landing_row() }},
        {{ rule_columns(
            inventory_rules('perf_office', 'strategic_goals', {
                'goal_id': 'goal_id', 'title': 'title', 'kpi_id': 'kpi_id', 'department_code': 'department_code',
                'baseline': 'baseline', 'target_value': 'target_value', 'unit': 'unit', 'start_date': 'start_date',
                'deadline': 'deadline', 'owner': 'owner',
            })
            + [rule_not_before('deadline', 'start_date')]
        ) }}
    from renamed
),

{{ deduplicated_versions('checked', 'goal_id', '_extracted_at desc') }}
