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
    {{ try_cast_to("replace(replace(" ~ clean_text(column) ~ ", ',', ''), '$', '')", 'double') }}
{%- endmacro %}

{% macro to_money(column) -%}
    {#- USD amounts as exact decimals: sums do not depend on the order rows are added in -#}
    {{ try_cast_to("replace(replace(" ~ clean_text(column) ~ ", ',', ''), '$', '')", 'decimal(18, 2)') }}
{%- endmacro %}

{% macro to_integer(column) -%}
    {#- "12.0" (spreadsheets) reads as 12; "12.5" is not an integer and stays NULL -#}
    (case when {{ to_number(column) }} = trunc({{ to_number(column) }}) then cast({{ to_number(column) }} as bigint) end)
{%- endmacro %}

{% macro to_date(column) -%}
    {{ try_cast_to(clean_text(column), 'date') }}
{%- endmacro %}

{% macro to_timestamp(column) -%}
    {#- naive local time, as files and databases write it -#}
    {{ try_cast_to(clean_text(column), 'timestamp') }}
{%- endmacro %}

{% macro to_local_timestamp(column) -%}
    {#- ISO 8601 with an offset (Open311, SODA) -> naive wall-clock time in the city's zone -#}
    timezone({{ sql_literal(var("city_timezone")) }}, {{ try_cast_to(clean_text(column), 'timestamptz') }})
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
        {{ try_cast_to(clean_text(column) ~ " || '-01'", 'date') }},
        {{ month_start_of(try_cast_to(clean_text(column), 'date')) }}
    )
{%- endmacro %}

{% macro seconds_between(start_ts, end_ts) -%}
    ({{ epoch_seconds(end_ts) }} - {{ epoch_seconds(start_ts) }})
{%- endmacro %}

{% macro days_between(start_ts, end_ts) -%}
    (({{ epoch_seconds(end_ts) }} - {{ epoch_seconds(start_ts) }}) / 86400.0)
{%- endmacro %}

{% macro to_declared(column, type_name, format=none) -%}
    {#- A field read the way the inventory declares the source writes it (its `format`: strptime datetime/date
        format and time zone, thousands/decimal separators, (12.50) negatives, true/false values, a code_map onto
        canonical values). Mirrors citystat.quality.landed.typed_sql; every format value goes through sql_literal.
        A value that does not match is NULL, so the base model's rule_castable quarantines it as uncastable_value. -#}
    {%- set fmt = format or {} -%}
    {%- set text = clean_text(column) -%}
    {%- if fmt.get('code_map') -%}
        {%- set cases = [] -%}
        {%- for k, v in fmt['code_map'].items() -%}
            {%- set canonical = ('true' if v else 'false') if v is sameas true or v is sameas false else v | string -%}
            {%- do cases.append('when ' ~ sql_literal(k | string) ~ ' then ' ~ sql_literal(canonical)) -%}
        {%- endfor -%}
        {%- set text = '(case ' ~ text ~ ' ' ~ cases | join(' ') ~ ' else ' ~ text ~ ' end)' -%}
    {%- endif -%}
    {%- if type_name in ('number', 'integer') -%}
        {%- if fmt.get('negative_parentheses') -%}
            {%- set text = 'regexp_replace(' ~ text ~ ', ' ~ sql_literal('^\\((.*)\\)$') ~ ', ' ~ sql_literal('-\\1') ~ ')' -%}
        {%- endif -%}
        {%- set text = 'replace(replace(' ~ text ~ ', ' ~ sql_literal(fmt.get('thousands_separator', ',')) ~ ", ''), '$', '')" -%}
        {%- if fmt.get('decimal_separator', '.') != '.' -%}
            {%- set text = 'replace(' ~ text ~ ', ' ~ sql_literal(fmt['decimal_separator']) ~ ", '.')" -%}
        {%- endif -%}
        {%- set number = try_cast_to(text, 'double') -%}
        {%- if type_name == 'number' -%}{{ number }}{%- else -%}(case when {{ number }} = trunc({{ number }}) then cast({{ number }} as bigint) end){%- endif -%}
    {%- elif type_name == 'date' and fmt.get('date') -%}
        cast({{ try_strptime(text, fmt['date']) }} as date)
    {%- elif type_name == 'datetime' and fmt.get('datetime') -%}
        {%- set parsed = try_strptime(text, fmt['datetime']) -%}
        {%- if fmt.get('timezone') and fmt['timezone'] != var('city_timezone') -%}
            timezone({{ sql_literal(var('city_timezone')) }}, timezone({{ sql_literal(fmt['timezone']) }}, {{ parsed }}))
        {%- else -%}{{ parsed }}{%- endif -%}
    {%- elif type_name == 'boolean' and (fmt.get('true_values') or fmt.get('code_map')) -%}
        {%- set yes, no = (['TRUE'], ['FALSE']) if fmt.get('code_map') else ([], []) -%}  {#- mapped codes arrive as 'true' / 'false' -#}
        {%- for v in fmt.get('true_values', []) %}{% do yes.append(v | upper) %}{% endfor -%}
        {%- for v in fmt.get('false_values', []) %}{% do no.append(v | upper) %}{% endfor -%}
        {%- if not yes %}{% do yes.append(none) %}{% endif %}{% if not no %}{% do no.append(none) %}{% endif -%}
        (case when upper({{ text }}) in ({% for v in yes %}{{ sql_literal(v) }}{{ ', ' if not loop.last }}{% endfor %}) then true
              when upper({{ text }}) in ({% for v in no %}{{ sql_literal(v) }}{{ ', ' if not loop.last }}{% endfor %}) then false end)
    {%- elif type_name == 'date' -%}{{ to_date(column) }}
    {%- elif type_name == 'datetime' -%}{{ to_timestamp(column) }}
    {%- elif type_name == 'boolean' -%}{{ to_boolean(column) }}
    {%- else -%}{{ text }}
    {%- endif -%}
{%- endmacro %}
