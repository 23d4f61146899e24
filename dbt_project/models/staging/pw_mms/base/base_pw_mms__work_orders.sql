{{ config(
    materialized='incremental',
    unique_key='work_order_id',
    incremental_strategy='delete+insert',
    tags=['daily'],
) }}

with source as (
    {{ landing_source('pw_mms', 'work_orders', window_column=to_timestamp('updated_at')) }}
),

renamed as (
    select
        {{ clean_text('work_order_id') }} as work_order_id,
        {{ clean_text('service_request_id') }} as service_request_id,
        {{ clean_text('asset_id') }} as asset_id,
        {{ clean_code('work_type') }} as work_type,
        {{ clean_text('crew_id') }} as crew_id,
        {{ clean_code('status') }} as status,
        {{ to_timestamp('created_at') }} as created_at,
        {{ to_date('scheduled_date') }} as scheduled_date,
        {{ to_timestamp('completed_at') }} as completed_at,
        {{ to_number('labor_hours') }} as labor_hours,
        {{ to_money('material_cost') }} as material_cost,
        {{ to_timestamp('updated_at') }} as updated_at,
        {{ landing_metadata() }},
        {{ landing_row("source") }} as _raw
    from source
),

checked as (
    select
        {{ without_landing_row() }},
        {{ rule_columns(
            inventory_rules('pw_mms', 'work_orders', {
                'work_order_id': 'work_order_id', 'service_request_id': 'service_request_id', 'asset_id': 'asset_id',
                'work_type': 'work_type', 'crew_id': 'crew_id', 'status': 'status', 'created_at': 'created_at',
                'scheduled_date': 'scheduled_date', 'completed_at': 'completed_at', 'labor_hours': 'labor_hours',
                'material_cost': 'material_cost', 'updated_at': 'updated_at',
            })
            + [
                rule_not_before('completed_at', 'created_at'),
                rule('missing_required', "status = 'completed' and completed_at is null",
                     "'completed work order has no completed_at'"),
            ]
        ) }}
    from renamed
),

{{ deduplicated_versions('checked', 'work_order_id', 'updated_at desc nulls last') }}
