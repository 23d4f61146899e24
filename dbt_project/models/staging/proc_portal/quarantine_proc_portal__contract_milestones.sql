{{ config(schema='quality', materialized='table') }}

{{ quarantine_rows('base_proc_portal__contract_milestones', [
    rule_references('contract_id', 'base_proc_portal__contracts'),
]) }}
