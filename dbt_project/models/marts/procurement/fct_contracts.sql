-- Contracts on the procurement portal, with their vendor and milestone plan.
with contracts as (
    select * from {{ ref('stg_proc_portal__contracts') }}
),

milestones as (
    -- rounded: a double sum in parallel varies in the last bits, and reruns must be identical
    select contract_id, count(*) as milestones, {{ round_double('sum(weight)', 9) }} as milestone_weight
    from {{ ref('stg_proc_portal__contract_milestones') }}
    group by contract_id
)

select
    contracts.contract_id,
    contracts.vendor_id,
    vendors.vendor_name,
    contracts.title,
    contracts.department_code,
    contracts.program_code,
    contracts.contract_type,
    contracts.contract_type = 'results_driven' as is_results_driven,
    contracts.season_year,
    contracts.region,
    contracts.start_date,
    contracts.end_date,
    {{ fiscal_year('contracts.start_date') }} as start_fiscal_year,
    contracts.total_value,
    contracts.base_payment,
    contracts.performance_pool,
    contracts.penalty_per_day_late,
    contracts.penalty_per_incident,
    contracts.warranty_months,
    contracts.planned_miles,
    contracts.status,
    coalesce(milestones.milestones, 0) as milestones,
    milestones.milestone_weight
from contracts
left join {{ ref('stg_proc_portal__vendors') }} as vendors on vendors.vendor_id = contracts.vendor_id
left join milestones on milestones.contract_id = contracts.contract_id
