-- Street segments resurfaced under the paving contracts: latest reported state of each segment,
-- schedule against actual, pavement condition before and after, incidents and rework.
with segments as (
    select *
    from (
        select *, row_number() over (partition by segment_id order by report_week desc) as _report_rank
        from {{ ref('stg_pw_paving__paving_reports') }}
    ) as reports
    where _report_rank = 1
),

weeks as (
    select segment_id, count(*) as weeks_reported, min(report_week) as first_report_week
    from {{ ref('stg_pw_paving__paving_reports') }}
    group by segment_id
)

select
    segments.segment_id,
    segments.contract_id,
    segments.vendor_id,
    vendors.vendor_name,
    contracts.season_year,
    contracts.region,
    segments.street_name,
    segments.from_street,
    segments.to_street,
    segments.length_miles,
    segments.status,
    segments.status = 'completed' as is_completed,
    weeks.first_report_week,
    segments.report_week as last_report_week,
    weeks.weeks_reported,
    segments.scheduled_start,
    segments.scheduled_end,
    segments.actual_start,
    segments.actual_end,
    {{ fiscal_year('segments.actual_end') }} as completed_fiscal_year,
    {{ days_diff('segments.scheduled_start', 'segments.actual_start') }} as start_delay_days,
    {{ days_diff('segments.scheduled_end', 'segments.actual_end') }} as finish_delay_days,
    segments.actual_end > segments.scheduled_end as finished_late,
    segments.pci_before,
    segments.pci_after,
    segments.pci_after - segments.pci_before as pci_improvement,
    segments.parking_incidents,
    segments.environmental_incidents,
    coalesce(segments.parking_incidents, 0) + coalesce(segments.environmental_incidents, 0) as incidents,
    segments.rework_required
from segments
left join {{ ref('stg_proc_portal__contracts') }} as contracts on contracts.contract_id = segments.contract_id
left join {{ ref('stg_proc_portal__vendors') }} as vendors on vendors.vendor_id = segments.vendor_id
left join weeks on weeks.segment_id = segments.segment_id
