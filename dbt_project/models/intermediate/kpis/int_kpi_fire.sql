-- Fire response KPIs by month: 90th percentiles of turnout and alarm-to-arrival time, incidents responded.
with incidents as (
    select
        *,
        cast(date_trunc('month', alarm_time) as date) as alarm_month,
        cast(date_trunc('month', arrival_time) as date) as arrival_month
    from {{ ref('fct_fire_incidents') }}
)

select 'fire_turnout_p90_sec' as kpi_id, 'fire' as department_code, alarm_month as period_month,
    cast(null as bigint) as numerator, count(turnout_seconds) as denominator, {{ quantile_of('turnout_seconds', 0.9) }} as value
from incidents
where turnout_seconds is not null
group by 1, 2, 3
union all
select 'fire_alarm_to_arrival_p90_sec', 'fire', arrival_month,
    cast(null as bigint), count(alarm_to_arrival_seconds), {{ quantile_of('alarm_to_arrival_seconds', 0.9) }}
from incidents
where alarm_to_arrival_seconds is not null
group by 1, 2, 3
union all
select 'fire_incidents_responded', 'fire', arrival_month, count(*), cast(null as bigint), count(*)
from incidents
where had_arrival
group by 1, 2, 3
