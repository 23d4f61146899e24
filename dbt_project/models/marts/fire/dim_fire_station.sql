-- Fire stations and the district each one covers first.
select station_id, station_name, district
from {{ ref('stg_fire_cad__stations') }}
