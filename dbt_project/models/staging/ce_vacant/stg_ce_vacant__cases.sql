{{ passing_rows('base_ce_vacant__cases', 'quarantine_ce_vacant__cases') }}
