-- The citywide data inventory: one row per dataset.
select
    system_id,
    dataset_id,
    department_code,
    title,
    connector,
    update_method,
    publication_status
from inventory.datasets
