{{ config(materialized='table') }}

with source as (
    {{ landing_source('proc_portal', 'contract_milestones') }}
),

renamed as (
    select
        {{ clean_text('milestone_id') }} as milestone_id,
        {{ clean_text('contract_id') }} as contract_id,
        {{ clean_text('milestone_name') }} as milestone_name,
        {{ to_date('due_date') }} as due_date,
        {{ to_number('target_share') }} as target_share,
        {{ to_number('weight') }} as weight,
        {{ clean_code('metric') }} as metric,
        {{ clean_text('":id"') }} as soda_row_id,
        {{ to_local_timestamp('":updated_at"') }} as updated_at,
        {{ landing_metadata() }},
        {{ landing_row("source") }} as _raw
    from source
),

checked as (
    select
        {{ without_landing_row() }},
        {{ rule_columns(
            inventory_rules('proc_portal', 'contract_milestones', {
                'milestone_id': 'milestone_id', 'contract_id': 'contract_id', 'milestone_name': 'milestone_name',
                'due_date': 'due_date', 'target_share': 'target_share', 'weight': 'weight', 'metric': 'metric',
                ':id': 'soda_row_id', ':updated_at': 'updated_at',
            })
            + [rule_range('target_share', 0, 1), rule_range('weight', 0, 1)]
        ) }}
    from renamed
),

{{ deduplicated_versions('checked', 'milestone_id', 'updated_at desc nulls last') }}
