{{ config(schema='quality', materialized='table', tags=['daily']) }}

{{ quarantine_rows('base_fire_cad__incidents', [
    rule_references('station_id', 'base_fire_cad__stations'),
    rule_not_future('alarm_time'),
    rule_not_future('arrival_time'),
    rule_not_future('cleared_time'),
]) }}
