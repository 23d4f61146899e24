-- Every KPI value CityStat computes, registered or not, one row per KPI and month (fiscal-year-to-date KPIs
-- carry the year-to-date figure at each month end). kpi_values publishes the ones in the KPI registry;
-- the others (budget execution and spending per resident of each department, cumulative properties
-- addressed, ...) are ready for the registry: add a row there and they flow.
with computed as (
    select * from {{ ref('int_kpi_service_requests') }}
    union all
    select * from {{ ref('int_kpi_public_works') }}
    union all
    select * from {{ ref('int_kpi_code_enforcement') }}
    union all
    select * from {{ ref('int_kpi_fire') }}
    union all
    select * from {{ ref('int_kpi_finance') }}
    union all
    select * from {{ ref('int_kpi_human_services') }}
    union all
    select * from {{ ref('int_kpi_performance_office') }}
)

select
    kpi_id,
    department_code,
    period_month,
    {{ fiscal_year('period_month') }} as fiscal_year,
    {{ fiscal_period('period_month') }} as fiscal_period,
    -- rounded: parallel aggregation sums doubles in varying order, and a rerun must give identical values
    {{ round_double('cast(numerator as double precision)', 9) }} as numerator,
    {{ round_double('cast(denominator as double precision)', 9) }} as denominator,
    {{ round_double('cast(value as double precision)', 9) }} as value,
    'computed' as source
from computed
where period_month is not null
