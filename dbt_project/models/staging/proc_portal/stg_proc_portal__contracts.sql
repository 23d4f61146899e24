{{ passing_rows('base_proc_portal__contracts', 'quarantine_proc_portal__contracts') }}
