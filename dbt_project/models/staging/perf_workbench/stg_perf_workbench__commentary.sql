{{ passing_rows('base_perf_workbench__commentary', 'quarantine_perf_workbench__commentary') }}
