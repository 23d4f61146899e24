{{ config(materialized='table') }}

with source as (
    {{ landing_source('proc_portal', 'vendors') }}
),

renamed as (
    select
        {{ clean_text('vendor_id') }} as vendor_id,
        {{ clean_text('vendor_name') }} as vendor_name,
        {{ clean_text('address') }} as business_address,
        {{ clean_code('status') }} as status,
        {{ to_date('registered_date') }} as registered_date,
        {{ clean_text('":id"') }} as soda_row_id,
        {{ to_local_timestamp('":updated_at"') }} as updated_at,
        {{ landing_metadata() }},
        {{ landing_row("source") }} as _raw
    from source
),

checked as (
    select
        {{ without_landing_row() }},
        {{ rule_columns(inventory_rules('proc_portal', 'vendors', {
            'vendor_id': 'vendor_id', 'vendor_name': 'vendor_name', 'address': 'business_address',
            'status': 'status', 'registered_date': 'registered_date', ':id': 'soda_row_id', ':updated_at': 'updated_at',
        })) }}
    from renamed
),

{{ deduplicated_versions('checked', 'vendor_id', 'updated_at desc nulls last') }}
