{{ passing_rows('base_proc_portal__contract_milestones', 'quarantine_proc_portal__contract_milestones') }}
