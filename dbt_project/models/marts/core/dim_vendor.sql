-- Vendors registered on the procurement portal (contact persons are not carried: they are personal data).
with vendors as (
    select * from {{ ref('stg_proc_portal__vendors') }}
),

contracts as (
    select vendor_id, count(*) as contracts, sum(total_value) as contracted_value
    from {{ ref('stg_proc_portal__contracts') }}
    group by vendor_id
)

select
    vendors.vendor_id,
    vendors.vendor_name,
    vendors.business_address,
    vendors.status,
    vendors.status = 'debarred' as is_debarred,
    vendors.registered_date,
    coalesce(contracts.contracts, 0) as contracts,
    coalesce(contracts.contracted_value, 0) as contracted_value
from vendors
left join contracts on contracts.vendor_id = vendors.vendor_id
