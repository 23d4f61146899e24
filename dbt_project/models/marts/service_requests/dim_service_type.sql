-- Tagged daily: it is rebuilt in the same dbt run as fct_service_requests, whose relationships tests read it.
{{ config(tags=['daily']) }}
-- 311 service types: the CRM's published list (Open311 services, where the city has it) and every type the
-- requests of any 311 system carry (int_service_requests). Open311 publishes no department or SLA per type, so
-- both are read from the requests themselves: the responsible agency, and the SLA as the typical gap between
-- requested and expected (due) time.
with services as (
    select * from {{ ref('stg_crm311__services') }}
),

observed as (
    select
        service_code,
        {{ most_common("service_name") }} as service_name,
        {{ most_common("department_code") }} as department_code,
        {{ round_double(median_of(days_between('requested_at', 'expected_at')), 2) }} as sla_days,
        count(*) as requests_received
    from {{ ref('int_service_requests') }}
    where service_code is not null
    group by service_code
)

select
    coalesce(services.service_code, observed.service_code) as service_code,
    coalesce(services.service_name, observed.service_name) as service_name,
    services.service_description,
    services.service_group,
    services.keywords,
    observed.department_code,
    observed.sla_days,
    coalesce(observed.requests_received, 0) as requests_received
from services
full outer join observed on observed.service_code = services.service_code
