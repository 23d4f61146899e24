-- Calendar and fiscal calendar (July-June, fiscal year named by the year it ends in).
with days as (
    select date_day from {{ ref('int_calendar_days') }}
)

select
    date_day,
    cast(date_trunc('month', date_day) as date) as month_start,
    cast(date_trunc('week', date_day) as date) as week_start,
    {{ date_part_of('year', 'date_day') }} as calendar_year,
    {{ date_part_of('quarter', 'date_day') }} as calendar_quarter,
    {{ date_part_of('month', 'date_day') }} as calendar_month,
    {{ date_name('month', 'date_day') }} as month_name,
    {{ date_part_of('day', 'date_day') }} as day_of_month,
    {{ date_part_of('isodow', 'date_day') }} as day_of_week,
    {{ date_name('day', 'date_day') }} as day_name,
    {{ date_part_of('isodow', 'date_day') }} >= 6 as is_weekend,
    {{ fiscal_year('date_day') }} as fiscal_year,
    'FY' || {{ fiscal_year('date_day') }} as fiscal_year_label,
    {{ fiscal_quarter('date_day') }} as fiscal_quarter,
    {{ fiscal_period('date_day') }} as fiscal_period,
    {{ fiscal_year_start(fiscal_year('date_day')) }} as fiscal_year_start,
    cast({{ fiscal_year_start(fiscal_year('date_day')) }} + interval '1 year' - interval '1 day' as date) as fiscal_year_end,
    {{ days_diff(fiscal_year_start(fiscal_year('date_day')), 'date_day') }} + 1 as day_of_fiscal_year
from days
