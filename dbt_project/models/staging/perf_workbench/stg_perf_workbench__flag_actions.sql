{{ passing_rows('base_perf_workbench__flag_actions', 'quarantine_perf_workbench__flag_actions') }}
