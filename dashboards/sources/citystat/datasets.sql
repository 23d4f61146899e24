-- The citywide data inventory, one row per dataset, with its load freshness and (automated datasets) its
-- quality score from quality.dataset_scores.
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
    q.quality_score,
    q.expectation_pass_rate,
    q.quarantine_share,
    q.rows_quarantined,
    q.missing_exports,
    q.drifted_files,
    q.reconciliation_holds
from inventory.datasets d
left join quality.dataset_scores q on q.dataset_id = d.system_id || '.' || d.dataset_id
