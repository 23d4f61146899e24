-- Public Works assets: road segments, streetlights and signs.
select asset_id, asset_type, street_name, district, latitude, longitude, installed_year
from {{ ref('stg_pw_mms__assets') }}
