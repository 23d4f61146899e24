{{ passing_rows('base_pw_paving__paving_reports', 'quarantine_pw_paving__paving_reports') }}
