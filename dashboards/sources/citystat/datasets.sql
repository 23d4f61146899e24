-- The citywide data inventory, one row per dataset, with its load freshness and (automated datasets) its
-- quality score from quality.dataset_scores, its owner and steward (names only), the files held back at landing
-- and the KPIs it feeds (registry lineage, as "kpi_id|name" joined by ';;').
with feeds as (
    select l.system_id, l.dataset_id, count(*) as kpis_fed,
           string_agg(l.kpi_id || '|' || coalesce(r.kpi_name, l.kpi_id), ';;' order by r.kpi_name) as kpi_list
    from inventory.kpi_lineage l
    left join metrics.kpi_registry r using (kpi_id)
    group by all
)
select
    d.system_id,
    d.dataset_id,
    d.department_code,
    d.title,
    d.connector,
    d.cadence,
    d.update_method,
    d.access_level,
    d.publication_status,
    d.loads,
    d.rows_landed,
    d.last_loaded_at,
    d.hours_since_load,
    d.freshness_hours,
    d.freshness,
    d.owner,
    d.steward,
    strftime(try_cast(d.last_loaded_at as timestamp), '%Y-%m-%d %H:%M') as last_loaded_text,
    coalesce(f.kpis_fed, 0) as kpis_fed,
    f.kpi_list,
    q.quality_score,
    q.expectation_pass_rate,
    q.quarantine_share,
    q.rows_quarantined,
    q.missing_exports,
    q.drifted_files,
    q.reconciliation_holds
from inventory.datasets d
left join quality.dataset_scores q on q.dataset_id = d.system_id || '.' || d.dataset_id
left join feeds f on f.system_id = d.system_id and f.dataset_id = d.dataset_id
