{{ passing_rows('base_pw_mms__crews', 'quarantine_pw_mms__crews') }}
