{{ config(
    materialized='incremental',
    unique_key='service_request_id',
    incremental_strategy='delete+insert',
    tags=['daily'],
    post_hook=["{{ delete_unstaged('service_request_id', 'stg_crm311__service_requests') }}"],
) }}

-- One row per 311 service request: SLA, on-time, days to close and repeat requests.

with staged as (
    select * from {{ ref('stg_crm311__service_requests') }}
),

{% if is_incremental() %}
changed as (
    {{ changed_records('staged', 'service_request_id', 'updated_at') }}
),

removed as (
    select held.* from {{ this }} as held
    anti join staged on staged.service_request_id = held.service_request_id
),

-- A request's repeat flag depends on the requests before it at the same place: recompute every request
-- that follows (within 30 days) a request that is new, moved or gone.
touched as (
    select address_id, service_code, requested_at from changed
    union all
    select held.address_id, held.service_code, held.requested_at
    from {{ this }} as held
    semi join changed on changed.service_request_id = held.service_request_id
    union all
    select address_id, service_code, requested_at from removed
),

affected as (
    select service_request_id from changed
    union
    select staged.service_request_id
    from staged
    inner join touched
        on staged.address_id = touched.address_id
        and staged.service_code = touched.service_code
        and staged.requested_at between touched.requested_at and touched.requested_at + interval 30 day
),
{% endif %}

repeat_flags as (
    -- a repeat: the previous request of the same type at the same address came in the 30 days before it
    select
        service_request_id,
        requested_at - lag(requested_at) over (
            partition by address_id, service_code order by requested_at, service_request_id
        ) <= interval 30 day as is_repeat_within_30d
    from staged
    {%- if is_incremental() %}
    semi join touched on touched.address_id = staged.address_id and touched.service_code = staged.service_code
    {%- endif %}
    where address_id is not null
),

requests as (
    select staged.*
    from staged
    {%- if is_incremental() %}
    semi join affected on affected.service_request_id = staged.service_request_id
    {%- endif %}
)

select
    requests.service_request_id,
    requests.service_code,
    requests.service_name,
    requests.department_code,
    requests.status,
    requests.status = 'closed' as is_closed,
    requests.requested_at,
    cast(requests.requested_at as date) as requested_date,
    requests.updated_at,
    requests.closed_at,
    cast(requests.closed_at as date) as closed_date,
    requests.expected_at as sla_due_at,
    case
        when requests.closed_at is not null and requests.expected_at is not null
            then requests.closed_at <= requests.expected_at
    end as closed_on_time,
    {{ days_between('requests.requested_at', 'requests.closed_at') }} as days_to_close,
    coalesce(repeat_flags.is_repeat_within_30d, false) as is_repeat_within_30d,
    requests.address_id,
    requests.address,
    requests.zipcode,
    requests.latitude,
    requests.longitude,
    requests.description,
    requests.status_notes,
    requests.media_url is not null as has_media,
    requests._load_id,
    requests._source_file,
    requests._row_number,
    requests._extracted_at
from requests
left join repeat_flags on repeat_flags.service_request_id = requests.service_request_id
