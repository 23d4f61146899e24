-- Generated from the data inventory by `citystat generate`. Do not edit: change the inventory's `implements`.

-- Every work order of the city, whatever system it came from: the rows fct_work_orders reads.
{{ config(tags=['daily']) }}

with implemented as (
    select cast(null as varchar) as source_system, cast(null as varchar) as work_order_id, cast(null as varchar) as service_request_id, cast(null as varchar) as asset_id, cast(null as varchar) as work_type, cast(null as varchar) as crew_id, cast(null as varchar) as status, cast(null as timestamp) as created_at, cast(null as date) as scheduled_date, cast(null as timestamp) as completed_at, cast(null as double) as labor_hours, cast(null as decimal(18, 2)) as material_cost, cast(null as timestamp) as updated_at, cast(null as varchar) as _load_id, cast(null as varchar) as _source_file, cast(null as bigint) as _row_number, cast(null as timestamp) as _extracted_at
    where false
    union all by name
    select 'pw_mms' as source_system, * from {{ ref('stg_pw_mms__work_orders') }}
)

select source_system, work_order_id, service_request_id, asset_id, work_type, crew_id, status, created_at, scheduled_date, completed_at, labor_hours, material_cost, updated_at, _load_id, _source_file, _row_number, _extracted_at
from implemented
