{{ config(schema='quality', materialized='table') }}

{{ quarantine_rows('base_perf_office__strategic_goals') }}
