{{ passing_rows('base_perf_office__strategic_goals', 'quarantine_perf_office__strategic_goals') }}
