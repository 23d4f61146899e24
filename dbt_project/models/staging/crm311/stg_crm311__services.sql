{{ passing_rows('base_crm311__services', 'quarantine_crm311__services') }}
