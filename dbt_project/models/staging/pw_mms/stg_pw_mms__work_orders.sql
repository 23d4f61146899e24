{{ config(tags=['daily']) }}

{{ passing_rows('base_pw_mms__work_orders', 'quarantine_pw_mms__work_orders') }}
