-- One row per day from var('date_spine_start') to var('date_spine_end').
select cast(day as date) as date_day
from generate_series(date '{{ var("date_spine_start") }}', date '{{ var("date_spine_end") }}', interval '1 day') as days(day)
