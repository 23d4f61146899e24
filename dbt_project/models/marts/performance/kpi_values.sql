-- Computed KPI values, one row per registered KPI and month: the long table the metrics layer reads.
-- Ids, units and definitions: the KPI registry (seeds/kpi_registry.csv); pct values are 0-100, value is
-- NULL when the denominator is 0. Fiscal-year-to-date KPIs carry the year-to-date value at each month end.
-- Values departments submit live in fct_kpi_submissions, never mixed in here.
select computed.*
from {{ ref('int_kpi_values') }} as computed
where exists (
    select 1 from {{ ref('kpi_registry') }} as registry
    where registry.id = computed.kpi_id and registry.source = 'computed'
)
