-- Vacant and abandoned property cases: current state, outcome and how long they took to address.
with cases as (
    select * from {{ ref('stg_ce_vacant__cases') }}
),

inspections as (
    select
        case_id,
        count(*) as inspections,
        sum(violations_found) as violations_found,
        max(inspection_date) as last_inspection_date
    from {{ ref('stg_ce_vacant__inspections') }}
    group by case_id
)

select
    cases.case_id,
    cases.property_id,
    cases.district,
    cases.opened_date,
    cases.status,
    cases.status = 'addressed' as is_addressed,
    cases.outcome,
    cases.closure_date,
    cast(date_trunc('month', cases.closure_date) as date) as closure_month,
    {{ fiscal_year('cases.closure_date') }} as closure_fiscal_year,
    {{ days_diff('cases.opened_date', 'cases.closure_date') }} as days_to_address,
    cases.evidence_photo_url is not null as has_evidence_photo,
    cases.inspector_id,
    coalesce(inspections.inspections, 0) as inspections,
    coalesce(inspections.violations_found, 0) as violations_found,
    inspections.last_inspection_date,
    cases.updated_at
from cases
left join inspections on inspections.case_id = cases.case_id
