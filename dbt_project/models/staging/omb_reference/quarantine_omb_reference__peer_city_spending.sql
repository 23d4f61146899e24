{{ config(schema='quality', materialized='table') }}

{{ quarantine_rows('base_omb_reference__peer_city_spending') }}
