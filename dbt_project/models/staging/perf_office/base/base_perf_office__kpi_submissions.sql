{{ config(materialized='table') }}

-- KPI values departments without a feed submit through the performance office's CSV template.
-- A resubmission for the same KPI and month supersedes the earlier one.
with source as (
    {{ landing_source('perf_office', 'kpi_submissions') }}
),

renamed as (
    select
        {{ clean_code('kpi_id') }} as kpi_id,
        {{ clean_code('department_code') }} as department_code,
        {{ to_month_start('period') }} as period_month,
        {{ to_number('value') }} as value,
        {{ to_number('numerator') }} as numerator,
        {{ to_number('denominator') }} as denominator,
        {{ to_timestamp('submitted_at') }} as submitted_at,
        {{ redact_contact_details('notes') }} as notes,
        {{ landing_metadata() }},
        {{ landing_row("source") }} as _raw
    from source
),

checked as (
    select
        {{ without_landing_row() }},
        {{ rule_columns(inventory_rules('perf_office', 'kpi_submissions', {
            'kpi_id': 'kpi_id', 'department_code': 'department_code', 'period': 'period_month', 'value': 'value',
            'numerator': 'numerator', 'denominator': 'denominator', 'submitted_at': 'submitted_at', 'notes': 'notes',
        })) }}
    from renamed
),

{{ deduplicated_versions('checked', ['kpi_id', 'period_month'], 'submitted_at desc nulls last') }}
