{{ passing_rows('base_perf_office__kpi_submissions', 'quarantine_perf_office__kpi_submissions') }}
