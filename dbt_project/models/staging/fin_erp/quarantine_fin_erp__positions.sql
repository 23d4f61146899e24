{{ config(schema='quality', materialized='table') }}

{{ quarantine_rows('base_fin_erp__positions', [
    rule_references('program_code', 'int_programs', rule_name='invalid_code'),
    rule_not_future('snapshot_date'),
]) }}
