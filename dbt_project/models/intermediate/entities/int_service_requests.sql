-- Generated from the data inventory by `citystat generate`. Do not edit: change the inventory's `implements`.

-- Every 311 service request of the city, whatever system it came from: the rows fct_service_requests reads.
{{ config(tags=['daily']) }}

with implemented as (
    select cast(null as varchar) as source_system, cast(null as varchar) as service_request_id, cast(null as varchar) as service_code, cast(null as varchar) as service_name, cast(null as varchar) as department_code, cast(null as varchar) as status, cast(null as timestamp) as requested_at, cast(null as timestamp) as updated_at, cast(null as timestamp) as expected_at, cast(null as timestamp) as closed_at, cast(null as varchar) as address, cast(null as varchar) as address_id, cast(null as varchar) as zipcode, cast(null as double) as latitude, cast(null as double) as longitude, cast(null as varchar) as description, cast(null as varchar) as status_notes, cast(null as varchar) as media_url, cast(null as boolean) as source_on_time, cast(null as varchar) as _load_id, cast(null as varchar) as _source_file, cast(null as bigint) as _row_number, cast(null as timestamp) as _extracted_at
    where false
    union all by name
    select 'crm311' as source_system, * from {{ ref('stg_crm311__service_requests') }}
)

select source_system, service_request_id, service_code, service_name, department_code, status, requested_at, updated_at, expected_at, closed_at, address, address_id, zipcode, latitude, longitude, description, status_notes, media_url, source_on_time, _load_id, _source_file, _row_number, _extracted_at
from implemented
