{{ config(materialized='table') }}

-- One row per segment and report week: a segment is listed in every weekly report from when its work is
-- scheduled to when it completes (fct_paving_segments keeps the latest week of each segment).
with source as (
    {{ landing_source('pw_paving', 'paving_reports') }}
),

renamed as (
    select
        {{ clean_text('segment_id') }} as segment_id,
        {{ to_date('report_week') }} as report_week,
        {{ clean_text('contract_id') }} as contract_id,
        {{ clean_text('vendor_id') }} as vendor_id,
        {{ clean_text('street_name') }} as street_name,
        {{ clean_text('from_street') }} as from_street,
        {{ clean_text('to_street') }} as to_street,
        {{ to_number('length_miles') }} as length_miles,
        {{ to_date('scheduled_start') }} as scheduled_start,
        {{ to_date('scheduled_end') }} as scheduled_end,
        {{ to_date('actual_start') }} as actual_start,
        {{ to_date('actual_end') }} as actual_end,
        {{ clean_code('status') }} as status,
        {{ to_number('pci_before') }} as pci_before,
        {{ to_number('pci_after') }} as pci_after,
        {{ to_integer('parking_incidents') }} as parking_incidents,
        {{ to_integer('environmental_incidents') }} as environmental_incidents,
        {{ to_boolean('rework_required') }} as rework_required,
        {{ landing_metadata() }},
        {{ landing_row("source") }} as _raw
    from source
),

checked as (
    select
        {{ without_landing_row() }},
        {{ rule_columns(
            inventory_rules('pw_paving', 'paving_reports', {
                'segment_id': 'segment_id', 'report_week': 'report_week', 'contract_id': 'contract_id',
                'vendor_id': 'vendor_id', 'street_name': 'street_name', 'from_street': 'from_street',
                'to_street': 'to_street', 'length_miles': 'length_miles', 'scheduled_start': 'scheduled_start',
                'scheduled_end': 'scheduled_end', 'actual_start': 'actual_start', 'actual_end': 'actual_end',
                'status': 'status', 'pci_before': 'pci_before', 'pci_after': 'pci_after',
                'parking_incidents': 'parking_incidents', 'environmental_incidents': 'environmental_incidents',
                'rework_required': 'rework_required',
            })
            + [
                rule_not_before('actual_end', 'actual_start'),
                rule_not_before('scheduled_end', 'scheduled_start'),
                rule('missing_required', "status = 'completed' and actual_end is null",
                     "'completed segment has no actual_end'"),
                rule_range('pci_before', 0, 100),
                rule_range('pci_after', 0, 100),
                rule_not_negative('length_miles'),
            ]
        ) }}
    from renamed
),

{{ deduplicated_versions('checked', ['report_week', 'segment_id'], '_extracted_at desc') }}
