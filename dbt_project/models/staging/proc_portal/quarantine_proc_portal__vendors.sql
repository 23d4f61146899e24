{{ config(schema='quality', materialized='table') }}

{{ quarantine_rows('base_proc_portal__vendors', [
    rule_not_future('registered_date'),
]) }}
