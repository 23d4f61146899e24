{{ config(schema='quality', materialized='table') }}

-- No orphan rule on case_id: the daily exports carry a case only when it changes, so a case opened before
-- the first export can have inspections long before its own row arrives.

{{ quarantine_rows('base_ce_vacant__inspections', [
    rule_not_future('inspection_date'),
]) }}
