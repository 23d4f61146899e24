-- MetricFlow's time spine: one row per day over the same calendar range as dim_date (dbt vars
-- date_spine_start / date_spine_end), with the city's fiscal quarter and year as custom granularities.
select
    cast(spine.day as date) as date_day,
    {{ fiscal_year('spine.day') }} as fiscal_year_number,
    'FY' || {{ fiscal_year('spine.day') }} as fiscal_year,
    'FY' || {{ fiscal_year('spine.day') }} || '-Q' || {{ integer_divide('(' ~ fiscal_period('spine.day') ~ ' + 2)', 3) }} as fiscal_quarter
from generate_series(
    cast('{{ var("date_spine_start") }}' as date), cast('{{ var("date_spine_end") }}' as date), interval '1 day'
) as spine(day)
