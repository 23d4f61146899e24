{{ config(tags=['daily']) }}

{{ passing_rows('base_fire_cad__incidents', 'quarantine_fire_cad__incidents') }}
