-- Contract milestones. Progression milestones are scored against the paving reports: the share of the
-- contract's segments completed by the due date, once the reports reach the due date.
with milestones as (
    select * from {{ ref('stg_proc_portal__contract_milestones') }}
),

segments as (
    select contract_id, actual_end, status
    from {{ ref('fct_paving_segments') }}
),

reported as (
    select contract_id, count(*) as segments, max(last_report_week) as last_report_week
    from {{ ref('fct_paving_segments') }}
    group by contract_id
),

progress as (
    select
        milestones.milestone_id,
        count(segments.contract_id) filter (
            where segments.status = 'completed' and segments.actual_end <= milestones.due_date
        ) as segments_completed_by_due
    from milestones
    left join segments on segments.contract_id = milestones.contract_id
    group by milestones.milestone_id
)

select
    milestones.milestone_id,
    milestones.contract_id,
    contracts.vendor_id,
    contracts.season_year,
    contracts.region,
    milestones.milestone_name,
    milestones.metric,
    milestones.due_date,
    {{ fiscal_year('milestones.due_date') }} as due_fiscal_year,
    milestones.target_share,
    milestones.weight,
    reported.segments as contract_segments,
    progress.segments_completed_by_due,
    case
        when milestones.metric = 'progression' and reported.segments > 0
            then {{ divide('progress.segments_completed_by_due', 'reported.segments') }}
    end as achieved_share,
    case
        when milestones.metric <> 'progression' or reported.last_report_week is null
            or reported.last_report_week < milestones.due_date then null
        else {{ divide('progress.segments_completed_by_due', 'reported.segments') }} >= milestones.target_share
    end as is_met
from milestones
left join {{ ref('stg_proc_portal__contracts') }} as contracts on contracts.contract_id = milestones.contract_id
left join reported on reported.contract_id = milestones.contract_id
left join progress on progress.milestone_id = milestones.milestone_id
