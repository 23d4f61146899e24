{{ config(schema='quality', materialized='table') }}

{{ quarantine_rows('base_ce_vacant__cases', [
    rule_not_future('opened_date'),
    rule_not_future('closure_date'),
]) }}
