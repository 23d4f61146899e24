{{ config(
    materialized='incremental',
    unique_key='incident_id',
    incremental_strategy='delete+insert',
    tags=['daily'],
    post_hook=["{{ delete_unstaged('incident_id', 'stg_fire_cad__incidents') }}"],
) }}

-- One row per Fire incident with its response intervals (NFPA 1710 terms): call processing (alarm to
-- dispatch), turnout (dispatch to en route), travel (en route to arrival) and alarm to arrival. The street
-- address is not carried: for medical calls it would reveal who needed care.

with staged as (
    select * from {{ ref('stg_fire_cad__incidents') }}
),

incidents as (
    {% if is_incremental() %}
    {{ changed_records('staged', 'incident_id', 'updated_at') }}
    {% else %}
    select * from staged
    {% endif %}
)

select
    incident_id,
    incident_type,
    priority,
    station_id,
    district,
    alarm_time,
    cast(alarm_time as date) as alarm_date,
    dispatch_time,
    enroute_time,
    arrival_time,
    cleared_time,
    arrival_time is not null as had_arrival,
    {{ seconds_between('alarm_time', 'dispatch_time') }} as call_processing_seconds,
    {{ seconds_between('dispatch_time', 'enroute_time') }} as turnout_seconds,
    {{ seconds_between('enroute_time', 'arrival_time') }} as travel_seconds,
    {{ seconds_between('alarm_time', 'arrival_time') }} as alarm_to_arrival_seconds,
    {{ seconds_between('alarm_time', 'cleared_time') }} as time_on_scene_total_seconds,
    updated_at,
    _load_id,
    _source_file,
    _row_number,
    _extracted_at
from incidents
