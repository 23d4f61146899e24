{{ config(materialized='table') }}

-- Peer cities' spending by function (department code) and fiscal year, for per-capita comparison.
with source as (
    {{ landing_source('omb_reference', 'peer_city_spending') }}
),

renamed as (
    select
        {{ clean_text('city') }} as city,
        upper({{ clean_text('state') }}) as state,
        {{ to_integer('population') }} as population,
        {{ to_integer('fiscal_year') }} as fiscal_year,
        {{ clean_code('function') }} as function_code,
        {{ to_money('spending') }} as spending,
        {{ to_money('per_capita') }} as per_capita,
        {{ landing_metadata() }},
        {{ landing_row("source") }} as _raw
    from source
),

checked as (
    select
        {{ without_landing_row() }},
        {{ rule_columns(inventory_rules('omb_reference', 'peer_city_spending', {
            'city': 'city', 'state': 'state', 'population': 'population', 'fiscal_year': 'fiscal_year',
            'function': 'function_code', 'spending': 'spending', 'per_capita': 'per_capita',
        })) }}
    from renamed
),

{{ deduplicated_versions('checked', ['city', 'state', 'fiscal_year', 'function_code'], '_extracted_at desc') }}
