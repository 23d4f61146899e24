-- Vacant or abandoned properties that have had a code-enforcement case (owners are not carried: personal data).
select
    property_id,
    {{ value_at_max('parcel_address', 'updated_at') }} as parcel_address,
    {{ value_at_max('district', 'updated_at') }} as district,
    count(*) as cases,
    count(*) filter (where status = 'addressed') as cases_addressed,
    min(opened_date) as first_case_opened
from {{ ref('stg_ce_vacant__cases') }}
group by property_id
