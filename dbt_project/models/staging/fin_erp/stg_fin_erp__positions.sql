{{ passing_rows('base_fin_erp__positions', 'quarantine_fin_erp__positions') }}
