{{ passing_rows('base_fire_cad__stations', 'quarantine_fire_cad__stations') }}
