{{ passing_rows('base_fin_erp__budget', 'quarantine_fin_erp__budget') }}
