-- Tagged daily: it is rebuilt in the same dbt run as fct_service_requests, whose relationships tests read it.
{{ config(tags=['daily']) }}
-- Addresses that 311 requests were made about (address_id: the city's address-point id), as last reported, from
-- the canonical requests of every 311 system (int_service_requests).
select
    address_id,
    {{ value_at_max('address', 'requested_at') }} as address,
    {{ value_at_max('zipcode', 'requested_at') }} as zipcode,
    {{ value_at_max('latitude', 'requested_at') }} as latitude,
    {{ value_at_max('longitude', 'requested_at') }} as longitude,
    count(*) as requests_received,
    min(requested_at) as first_request_at,
    max(requested_at) as last_request_at
from {{ ref('int_service_requests') }}
where address_id is not null
group by address_id
