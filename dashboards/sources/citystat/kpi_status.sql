-- One row per KPI and month: value, target, status, and the band edges of the status rules
-- (yellow within `edge` of the target on the wrong side, red beyond; edge = red_band, else yellow_band),
-- with the registry's kind and output/outcome pairing. About 50 KPIs x 40 months: small enough to ship.
select
    s.kpi_id,
    s.kpi_name,
    s.department_code,
    s.period_month,
    s.unit,
    s.value,
    s.target,
    s.status,
    s.status_reason,
    s.score,
    s.desired_direction,
    s.critical,
    s.trend_vs_last_year,
    s.fiscal_year,
    s.caveat,
    s.gray_reason,
    r.kind,
    nullif(r.paired_kpi_id, '') as paired_kpi_id,
    s.target - coalesce(r.red_band, r.yellow_band) * abs(s.target) as band_low,
    s.target + coalesce(r.red_band, r.yellow_band) * abs(s.target) as band_high
from metrics.kpi_status s
join metrics.kpi_registry r using (kpi_id)
