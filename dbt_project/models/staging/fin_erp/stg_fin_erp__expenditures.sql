{{ config(tags=['daily']) }}

{{ passing_rows('base_fin_erp__expenditures', 'quarantine_fin_erp__expenditures') }}
