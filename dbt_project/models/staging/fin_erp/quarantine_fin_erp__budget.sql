{{ config(schema='quality', materialized='table') }}

{{ quarantine_rows('base_fin_erp__budget') }}
