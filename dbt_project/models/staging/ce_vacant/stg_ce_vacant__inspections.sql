{{ passing_rows('base_ce_vacant__inspections', 'quarantine_ce_vacant__inspections') }}
