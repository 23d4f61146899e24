{{ config(
    materialized='incremental',
    unique_key='work_order_id',
    incremental_strategy='delete+insert',
    tags=['daily'],
    post_hook=["{{ delete_unstaged('work_order_id', 'stg_pw_mms__work_orders') }}"],
) }}

-- One row per Public Works maintenance work order (potholes, streetlights, signs, sidewalks).

with staged as (
    select * from {{ ref('stg_pw_mms__work_orders') }}
),

work_orders as (
    {% if is_incremental() %}
    {{ changed_records('staged', 'work_order_id', 'updated_at') }}
    {% else %}
    select * from staged
    {% endif %}
)

select
    work_order_id,
    service_request_id,
    asset_id,
    work_type,
    crew_id,
    status,
    status = 'completed' as is_completed,
    created_at,
    cast(created_at as date) as created_date,
    scheduled_date,
    completed_at,
    cast(completed_at as date) as completed_date,
    {{ days_between('created_at', 'completed_at') }} as days_to_complete,
    labor_hours,
    material_cost,
    updated_at,
    _load_id,
    _source_file,
    _row_number,
    _extracted_at
from work_orders
