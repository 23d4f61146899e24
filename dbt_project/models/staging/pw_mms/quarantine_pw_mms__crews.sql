{{ config(schema='quality', materialized='table') }}

{{ quarantine_rows('base_pw_mms__crews') }}
