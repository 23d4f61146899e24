-- Code-enforcement inspections of vacant properties and what they found (notes with contact details masked).
select
    inspections.inspection_id,
    inspections.case_id,
    cases.property_id,
    cases.district,
    inspections.inspection_date,
    cast(date_trunc('month', inspections.inspection_date) as date) as inspection_month,
    inspections.inspector_id,
    inspections.violations_found,
    inspections.result,
    inspections.result = 'violation' as found_violation,
    inspections.notes
from {{ ref('stg_ce_vacant__inspections') }} as inspections
left join {{ ref('stg_ce_vacant__cases') }} as cases on cases.case_id = inspections.case_id
