{{ config(schema='quality', materialized='table', tags=['daily']) }}

{{ quarantine_rows('base_pw_mms__work_orders', [
    rule_references('crew_id', 'base_pw_mms__crews'),
    rule_references('asset_id', 'base_pw_mms__assets'),
    rule_not_future('created_at'),
    rule_not_future('completed_at'),
]) }}
