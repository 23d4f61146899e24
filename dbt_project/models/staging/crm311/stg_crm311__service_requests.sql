{{ config(tags=['daily']) }}

{{ passing_rows('base_crm311__service_requests', 'quarantine_crm311__service_requests') }}
