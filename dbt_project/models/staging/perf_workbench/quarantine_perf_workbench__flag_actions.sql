{{ config(schema='quality', materialized='table') }}

{{ quarantine_rows('base_perf_workbench__flag_actions') }}
