-- Public Works maintenance crews (supervisor names are not carried: personal data).
select crew_id, crew_name, district, crew_size
from {{ ref('stg_pw_mms__crews') }}
