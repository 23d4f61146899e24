{{ config(schema='quality', materialized='table') }}

{{ quarantine_rows('base_proc_portal__contracts', [
    rule_references('vendor_id', 'base_proc_portal__vendors'),
    rule_references('program_code', 'int_programs', rule_name='invalid_code'),
]) }}
