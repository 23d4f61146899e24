{{ passing_rows('base_pw_mms__assets', 'quarantine_pw_mms__assets') }}
