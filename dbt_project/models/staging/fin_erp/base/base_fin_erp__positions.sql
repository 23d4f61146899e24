{{ config(materialized='table') }}

-- Month-end snapshots: every budgeted position, filled or vacant, once per snapshot date.
with source as (
    {{ landing_source('fin_erp', 'positions') }}
),

renamed as (
    select
        {{ to_date('snapshot_date') }} as snapshot_date,
        {{ clean_text('position_id') }} as position_id,
        {{ clean_code('department_code') }} as department_code,
        {{ clean_code('program_code') }} as program_code,
        {{ clean_text('title') }} as title,
        {{ clean_code('status') }} as status,
        {{ to_date('vacant_since') }} as vacant_since,
        {{ to_money('annual_salary') }} as annual_salary,
        {{ landing_metadata() }},
        {{ landing_row("source") }} as _raw
    from source
),

checked as (
    select
        {{ without_landing_row() }},
        {{ rule_columns(
            inventory_rules('fin_erp', 'positions', {
                'snapshot_date': 'snapshot_date', 'position_id': 'position_id', 'department_code': 'department_code',
                'program_code': 'program_code', 'title': 'title', 'status': 'status',
                'vacant_since': 'vacant_since', 'annual_salary': 'annual_salary',
            })
            + [
                rule_not_negative('annual_salary'),
                rule('missing_required', "status = 'vacant' and vacant_since is null",
                     "'vacant position has no vacant_since'"),
                rule_not_before('snapshot_date', 'vacant_since', rule='future_date'),
            ]
        ) }}
    from renamed
),

{{ deduplicated_versions('checked', ['snapshot_date', 'position_id'], '_extracted_at desc') }}
