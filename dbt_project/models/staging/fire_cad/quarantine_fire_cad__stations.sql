{{ config(schema='quality', materialized='table') }}

{{ quarantine_rows('base_fire_cad__stations') }}
