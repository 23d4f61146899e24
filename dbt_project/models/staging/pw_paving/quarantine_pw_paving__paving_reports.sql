{{ config(schema='quality', materialized='table') }}

{{ quarantine_rows('base_pw_paving__paving_reports', [
    rule_references('contract_id', 'base_proc_portal__contracts'),
    rule_references('vendor_id', 'base_proc_portal__vendors'),
    rule_not_future('report_week'),
    rule_not_future('actual_end'),
]) }}
