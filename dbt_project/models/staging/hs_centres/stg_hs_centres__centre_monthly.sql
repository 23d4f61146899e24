{{ passing_rows('base_hs_centres__centre_monthly', 'quarantine_hs_centres__centre_monthly') }}
