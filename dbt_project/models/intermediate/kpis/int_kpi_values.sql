-- Every computed KPI value in one long table: one row per KPI and month (fiscal-year-to-date KPIs carry the
-- year-to-date figure at each month end). Ids and definitions: seeds/kpi_registry.csv. Submitted values
-- live in fct_kpi_submissions, never mixed in here.
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
    cast(numerator as double) as numerator,
    cast(denominator as double) as denominator,
    cast(value as double) as value,
    'computed' as source
from computed
where period_month is not null and value is not null
