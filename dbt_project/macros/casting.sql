{#- Typed reads of landing values. File drops land every value as text exactly as in the file; APIs and
    databases land native types. Every cast is a try_cast: a value that does not parse becomes NULL, and the
    staging rules turn "present in the source but NULL after the cast" into an `uncastable_value` quarantine. -#}

{% macro clean_text(column) -%}
    nullif(trim(cast({{ column }} as varchar)), '')
{%- endmacro %}

{% macro clean_code(column) -%}
    lower({{ clean_text(column) }})
{%- endmacro %}

{% macro to_number(column) -%}
    {#- thousands separators and currency signs are formatting, not data -#}
    try_cast(replace(replace({{ clean_text(column) }}, ',', ''), '$', '') as double)
{%- endmacro %}

{% macro to_money(column) -%}
    {#- USD amounts as exact decimals: sums do not depend on the order rows are added in -#}
    try_cast(replace(replace({{ clean_text(column) }}, ',', ''), '$', '') as decimal(18, 2))
{%- endmacro %}

{% macro to_integer(column) -%}
    {#- "12.0" (spreadsheets) reads as 12; "12.5" is not an integer and stays NULL -#}
    (case when {{ to_number(column) }} = trunc({{ to_number(column) }}) then cast({{ to_number(column) }} as bigint) end)
{%- endmacro %}

{% macro to_date(column) -%}
    try_cast({{ clean_text(column) }} as date)
{%- endmacro %}

{% macro to_timestamp(column) -%}
    {#- naive local time, as files and databases write it -#}
    try_cast({{ clean_text(column) }} as timestamp)
{%- endmacro %}

{% macro to_local_timestamp(column) -%}
    {#- ISO 8601 with an offset (Open311, SODA) -> naive wall-clock time in the city's zone -#}
    timezone({{ sql_literal(var("city_timezone")) }}, try_cast({{ clean_text(column) }} as timestamptz))
{%- endmacro %}

{% macro to_boolean(column) -%}
    (case
        when upper({{ clean_text(column) }}) in ('Y', 'YES', 'TRUE', 'T', '1') then true
        when upper({{ clean_text(column) }}) in ('N', 'NO', 'FALSE', 'F', '0') then false
    end)
{%- endmacro %}

{% macro to_month_start(column) -%}
    {#- 'YYYY-MM' periods (and full dates) -> first day of the month -#}
    coalesce(
        try_cast({{ clean_text(column) }} || '-01' as date),
        date_trunc('month', try_cast({{ clean_text(column) }} as date))
    )
{%- endmacro %}

{% macro seconds_between(start_ts, end_ts) -%}
    (epoch({{ end_ts }}) - epoch({{ start_ts }}))
{%- endmacro %}

{% macro days_between(start_ts, end_ts) -%}
    ((epoch({{ end_ts }}) - epoch({{ start_ts }})) / 86400.0)
{%- endmacro %}
