-- Peer cities' spending per function (department code) and fiscal year, beside Riverton's own spending
-- from the ledger, per resident.
with peers as (
    select city, state, population, fiscal_year, function_code, spending, per_capita, false as is_riverton
    from {{ ref('stg_omb_reference__peer_city_spending') }}
),

riverton as (
    select
        'Riverton' as city,
        cast(null as varchar) as state,
        {{ var('city_population') }} as population,
        fiscal_year,
        department_code as function_code,
        sum(amount) as spending,
        sum(amount) / {{ var('city_population') }} as per_capita,
        true as is_riverton
    from {{ ref('fct_expenditures') }}
    where department_code in (select distinct function_code from peers)
        and fiscal_year in (select distinct fiscal_year from peers)
    group by fiscal_year, department_code
)

select * from peers
union all
select * from riverton
