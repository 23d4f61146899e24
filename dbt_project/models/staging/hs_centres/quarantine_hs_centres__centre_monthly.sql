{{ config(schema='quality', materialized='table') }}

{{ quarantine_rows('base_hs_centres__centre_monthly', [
    rule_not_future('month_start'),
]) }}
