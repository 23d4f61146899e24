{{ config(schema='quality', materialized='table', tags=['daily']) }}

{{ quarantine_rows('base_fin_erp__expenditures', [
    rule_references('program_code', 'int_programs', rule_name='invalid_code'),
    rule_references('vendor_id', 'base_proc_portal__vendors'),
    rule_not_future('posting_date'),
    rule('invalid_code', 'fiscal_year <> ' ~ fiscal_year('posting_date'),
         "'fiscal_year ' || fiscal_year || ' does not match posting_date ' || posting_date"),
    rule('invalid_code', 'fiscal_period <> ' ~ fiscal_period('posting_date'),
         "'fiscal_period ' || fiscal_period || ' does not match posting_date ' || posting_date"),
]) }}
