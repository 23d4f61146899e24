-- Tagged daily: it is rebuilt in the same dbt run as fct_service_requests, whose relationships tests read it.
{{ config(tags=['daily']) }}
-- The city's departments (stable codes used in every department_code column): the inventory's departments (seed),
-- plus any code a 311 system's mapping assigns that the inventory does not list (named by its code), so every
-- request of every system has its department row.
with listed as (
    select department_code, department_name from {{ ref('departments') }}
),

assigned as (
    select distinct department_code from {{ ref('int_service_requests') }}
    where department_code is not null
)

select department_code, department_name from listed
union all
select assigned.department_code, assigned.department_code as department_name
from assigned
where not exists (select 1 from listed where listed.department_code = assigned.department_code)
