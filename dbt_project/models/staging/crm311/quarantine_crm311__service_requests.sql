{{ config(schema='quality', materialized='table', tags=['daily']) }}

{{ quarantine_rows('base_crm311__service_requests', [
    rule_references('service_code', 'base_crm311__services', rule_name='invalid_code'),
    rule_not_future('requested_at'),
    rule_not_future('closed_at'),
]) }}
