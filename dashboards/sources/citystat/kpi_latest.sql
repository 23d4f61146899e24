-- Each KPI at its latest reported month (submitted KPIs arrive on the 10th of the next month, so they can
-- lag the computed ones), with the registry's kind, pairing and critical mark, and the department's line of
-- commentary on that month from the workbench (metrics.kpi_commentary). One row per KPI.
with latest as (
    select *
    from metrics.kpi_status
    qualify row_number() over (partition by kpi_id order by period_month desc) = 1
)
select
    l.kpi_id,
    l.kpi_name,
    l.department_code,
    l.period_month,
    l.unit,
    l.value,
    l.target,
    l.status,
    l.status_reason,
    l.score,
    l.desired_direction,
    r.critical,
    r.kind,
    nullif(r.paired_kpi_id, '') as paired_kpi_id,
    l.trend_vs_last_year,
    l.relative_change,
    l.caveat,
    c.comment as commentary
from latest l
join metrics.kpi_registry r using (kpi_id)
left join metrics.kpi_commentary c on c.kpi_id = l.kpi_id and c.period = l.period
