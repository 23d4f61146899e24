{{ config(schema='quality', materialized='table') }}

{{ quarantine_rows('base_crm311__services') }}
