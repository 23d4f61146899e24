-- Each KPI's source datasets (registry lineage) with their owner, steward, freshness against cadence and
-- quality score: the KPI page's "where the number comes from". Owner and steward by name only (no e-mail).
select
    l.kpi_id,
    l.system_id,
    l.dataset_id,
    d.title,
    d.department_name,
    d.owner,
    d.steward,
    d.cadence,
    d.freshness_hours,
    d.update_method,
    d.freshness,
    strftime(try_cast(d.last_loaded_at as timestamp), '%Y-%m-%d %H:%M') as last_loaded_at,
    q.quality_score,
    q.drifted_files
from inventory.kpi_lineage l
left join inventory.datasets d using (system_id, dataset_id)
left join quality.dataset_scores q on q.dataset_id = l.system_id || '.' || l.dataset_id
