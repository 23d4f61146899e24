{{ passing_rows('base_proc_portal__vendors', 'quarantine_proc_portal__vendors') }}
