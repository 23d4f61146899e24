{#- Warehouse-specific SQL: every construct that differs between DuckDB and PostgreSQL goes through one of these
    adapter.dispatch macros (duckdb__ and postgres__ now; a trino__ or spark__ implementation goes beside them).
    The duckdb__ text is exactly what the models wrote before the port, so the DuckDB build is unchanged.
    docs/postgres_warehouse.md lists what each needs on another engine. -#}

{#- ---- run start: helper functions a warehouse needs (PostgreSQL 15 has no try_cast) ---- -#}

{% macro prepare_warehouse() -%}
    {{ return(adapter.dispatch('prepare_warehouse', 'citystat')()) }}
{%- endmacro %}

{% macro default__prepare_warehouse() -%}
    {#- nothing to prepare (an empty hook is not executed) -#}
{%- endmacro %}

{% macro postgres__prepare_warehouse() -%}
    {#- one function per target type: the value, or NULL when it does not parse (DuckDB's try_cast). Not `parallel
        safe`: the exception block is a subtransaction, which a parallel plan refuses (seen at scale 1) -#}
    {%- for name, pg_type in try_cast_types().items() %}
    create or replace function {{ target.schema }}.citystat_try_{{ name }}(value text) returns {{ pg_type }}
    language plpgsql immutable as $citystat$
    begin
        return value::{{ pg_type }};
    exception when others then
        return null;
    end
    $citystat$;
    {%- endfor %}
    {#- strptime: to_timestamp read in UTC and back, so the wall time parsed is the one returned (no zone, no DST gap) #}
    create or replace function {{ target.schema }}.citystat_try_strptime(value text, pattern text) returns timestamp
    language plpgsql stable set timezone to 'UTC' as $citystat$
    begin
        return to_timestamp(value, pattern)::timestamp;
    exception when others then
        return null;
    end
    $citystat$;
{%- endmacro %}

{% macro try_cast_types() -%}
    {#- the types the staging models try_cast to, by the name their PostgreSQL function carries -#}
    {{ return({'double': 'double precision', 'money': 'numeric(18, 2)', 'date': 'date',
               'timestamp': 'timestamp', 'timestamptz': 'timestamptz'}) }}
{%- endmacro %}

{#- ---- scalar expressions ---- -#}

{% macro try_cast_to(expression, type_name) -%}
    {#- type_name: double | decimal(18, 2) | date | timestamp | timestamptz -#}
    {{ return(adapter.dispatch('try_cast_to', 'citystat')(expression, type_name)) }}
{%- endmacro %}

{% macro duckdb__try_cast_to(expression, type_name) -%}
    try_cast({{ expression }} as {{ type_name }})
{%- endmacro %}

{% macro postgres__try_cast_to(expression, type_name) -%}
    {%- set name = 'money' if type_name.startswith('decimal') else type_name -%}
    {%- if name not in try_cast_types() -%}
        {{ exceptions.raise_compiler_error("try_cast_to: no PostgreSQL function for type " ~ type_name) }}
    {%- endif -%}
    {{ target.schema }}.citystat_try_{{ name }}({{ expression }})
{%- endmacro %}

{% macro try_strptime(text, format) -%}
    {{ return(adapter.dispatch('try_strptime', 'citystat')(text, format)) }}
{%- endmacro %}

{% macro duckdb__try_strptime(text, format) -%}
    try_strptime({{ text }}, {{ sql_literal(format) }})
{%- endmacro %}

{% macro postgres__try_strptime(text, format) -%}
    {#- PostgreSQL's to_timestamp with the strptime codes translated; it is lenient (a `T` for a space, trailing text),
        so the value must first match the format's shape, as DuckDB's strptime requires -#}
    {%- set codes = {'Y': ('YYYY', '[0-9]{4}'), 'y': ('YY', '[0-9]{2}'), 'm': ('MM', '[0-9]{1,2}'), 'd': ('DD', '[0-9]{1,2}'),
                     'H': ('HH24', '[0-9]{1,2}'), 'I': ('HH12', '[0-9]{1,2}'), 'M': ('MI', '[0-9]{1,2}'),
                     'S': ('SS', '[0-9]{1,2}'), 'f': ('US', '[0-9]{1,6}'), 'p': ('AM', '[AaPp][Mm]'),
                     'b': ('Mon', '[A-Za-z]{3}'), 'j': ('DDD', '[0-9]{1,3}'), '%': ('%', '%')} -%}
    {%- set pattern, shape, pending = ['FX'], [], [] -%}
    {%- for ch in format -%}
        {%- if pending -%}
            {%- if ch not in codes -%}
                {{ exceptions.raise_compiler_error("strptime code %" ~ ch ~ " has no PostgreSQL translation (macros/warehouse_sql.sql)") }}
            {%- endif -%}
            {%- do pattern.append(codes[ch][0]) -%}{%- do shape.append(codes[ch][1]) -%}{%- do pending.pop() -%}
        {%- elif ch == '%' -%}{%- do pending.append(ch) -%}
        {%- else -%}
            {%- do pattern.append('"' ~ ch ~ '"' if ch.isalpha() else ('\\"' if ch == '"' else ch)) -%}
            {%- do shape.append(modules.re.escape(ch)) -%}
        {%- endif -%}
    {%- endfor -%}
    case when {{ text }} ~ {{ sql_literal('^' ~ shape | join('') ~ '$') }}
        then {{ target.schema }}.citystat_try_strptime({{ text }}, {{ sql_literal(pattern | join('')) }}) end
{%- endmacro %}

{% macro default__try_strptime(text, format) -%}
    {{ exceptions.raise_compiler_error("declared strptime formats (inventory `format: datetime/date`) are not ported to " ~ target.type ~ " yet") }}
{%- endmacro %}

{% macro epoch_seconds(timestamp_expr) -%}
    {{ return(adapter.dispatch('epoch_seconds', 'citystat')(timestamp_expr)) }}
{%- endmacro %}

{% macro duckdb__epoch_seconds(timestamp_expr) -%}
    epoch({{ timestamp_expr }})
{%- endmacro %}

{% macro default__epoch_seconds(timestamp_expr) -%}
    extract(epoch from {{ timestamp_expr }})
{%- endmacro %}

{% macro days_diff(start_expr, end_expr) -%}
    {#- calendar days from start to end (day boundaries crossed), as DuckDB's date_diff('day', ...) -#}
    {{ return(adapter.dispatch('days_diff', 'citystat')(start_expr, end_expr)) }}
{%- endmacro %}

{% macro duckdb__days_diff(start_expr, end_expr) -%}
    date_diff('day', {{ start_expr }}, {{ end_expr }})
{%- endmacro %}

{% macro postgres__days_diff(start_expr, end_expr) -%}
    (cast({{ end_expr }} as date) - cast({{ start_expr }} as date))
{%- endmacro %}

{% macro year_month_text(date_expr) -%}
    {#- 'YYYY-MM' -#}
    {{ return(adapter.dispatch('year_month_text', 'citystat')(date_expr)) }}
{%- endmacro %}

{% macro duckdb__year_month_text(date_expr) -%}
    strftime({{ date_expr }}, '%Y-%m')
{%- endmacro %}

{% macro postgres__year_month_text(date_expr) -%}
    to_char({{ date_expr }}, 'YYYY-MM')
{%- endmacro %}

{% macro date_part_of(part, date_expr) -%}
    {#- part: year | month -#}
    {{ return(adapter.dispatch('date_part_of', 'citystat')(part, date_expr)) }}
{%- endmacro %}

{% macro duckdb__date_part_of(part, date_expr) -%}
    {{ part }}({{ date_expr }})
{%- endmacro %}

{% macro default__date_part_of(part, date_expr) -%}
    cast(extract({{ part }} from {{ date_expr }}) as integer)
{%- endmacro %}

{% macro integer_divide(numerator, denominator) -%}
    {{ return(adapter.dispatch('integer_divide', 'citystat')(numerator, denominator)) }}
{%- endmacro %}

{% macro duckdb__integer_divide(numerator, denominator) -%}
    {{ numerator }} // {{ denominator }}
{%- endmacro %}

{% macro default__integer_divide(numerator, denominator) -%}
    div({{ numerator }}, {{ denominator }})
{%- endmacro %}

{% macro regexp_matches_fully(text, pattern_sql) -%}
    {{ return(adapter.dispatch('regexp_matches_fully', 'citystat')(text, pattern_sql)) }}
{%- endmacro %}

{% macro duckdb__regexp_matches_fully(text, pattern_sql) -%}
    regexp_full_match({{ text }}, {{ pattern_sql }})
{%- endmacro %}

{% macro postgres__regexp_matches_fully(text, pattern_sql) -%}
    ({{ text }} ~ ('^(?:' || {{ pattern_sql }} || ')$'))
{%- endmacro %}

{% macro regexp_contains(text, pattern_sql) -%}
    {{ return(adapter.dispatch('regexp_contains', 'citystat')(text, pattern_sql)) }}
{%- endmacro %}

{% macro duckdb__regexp_contains(text, pattern_sql) -%}
    regexp_matches({{ text }}, {{ pattern_sql }})
{%- endmacro %}

{% macro postgres__regexp_contains(text, pattern_sql) -%}
    ({{ text }} ~ {{ pattern_sql }})
{%- endmacro %}

{#- ---- the untyped landing row a base model keeps beside its typed columns (quarantine reasons quote it) ---- -#}

{% macro landing_row(relation_alias) -%}
    {{ return(adapter.dispatch('landing_row', 'citystat')(relation_alias)) }}
{%- endmacro %}

{% macro duckdb__landing_row(relation_alias) -%}
    {{ relation_alias }}
{%- endmacro %}

{% macro postgres__landing_row(relation_alias) -%}
    to_jsonb({{ relation_alias }})
{%- endmacro %}

{% macro landing_field(row_column, name) -%}
    {{ return(adapter.dispatch('landing_field', 'citystat')(row_column, name)) }}
{%- endmacro %}

{% macro duckdb__landing_field(row_column, name) -%}
    {{ row_column }}.{{ sql_identifier(name) }}
{%- endmacro %}

{% macro postgres__landing_field(row_column, name) -%}
    ({{ row_column }} ->> {{ sql_literal(name) }})
{%- endmacro %}

{% macro without_landing_row() -%}
    {#- the select list of a base model's checked CTE: everything but _raw. PostgreSQL cannot drop a column
        from `*`; there _raw travels on and deduplicated_versions selects the model's declared columns. -#}
    {{ return(adapter.dispatch('without_landing_row', 'citystat')()) }}
{%- endmacro %}

{% macro duckdb__without_landing_row() -%}
    * exclude (_raw)
{%- endmacro %}

{% macro default__without_landing_row() -%}
    *
{%- endmacro %}

{#- ---- column lists where DuckDB writes `* exclude (...)` ---- -#}

{% macro declared_columns(exclude=[]) -%}
    {#- the current model's columns as its YAML documents them (every base model lists all of them) -#}
    {%- set names = [] -%}
    {%- for name in model.columns.keys() if name not in exclude -%}{% do names.append(name) %}{%- endfor -%}
    {%- if execute and not names -%}
        {{ exceptions.raise_compiler_error(model.name ~ ": document every column in its YAML; " ~ target.type ~ " has no `* exclude`") }}
    {%- endif -%}
    {{ return(names) }}
{%- endmacro %}

{% macro relation_columns(relation, exclude=[]) -%}
    {#- the columns of a built relation, in order (at parse time: none) -#}
    {%- set names = [] -%}
    {%- if execute -%}
        {%- for column in adapter.get_columns_in_relation(relation) if column.name not in exclude -%}
            {%- do names.append(column.name) -%}
        {%- endfor -%}
    {%- endif -%}
    {{ return(names) }}
{%- endmacro %}

{% macro column_list(names, qualifier=none) -%}
    {%- for name in names -%}{{ qualifier ~ '.' if qualifier }}{{ sql_identifier(name) }}{{ ', ' if not loop.last }}{%- endfor -%}
{%- endmacro %}

{#- ---- aggregates ---- -#}

{% macro median_of(expression) -%}
    {{ return(adapter.dispatch('median_of', 'citystat')(expression)) }}
{%- endmacro %}

{% macro duckdb__median_of(expression) -%}
    median({{ expression }})
{%- endmacro %}

{% macro default__median_of(expression) -%}
    percentile_cont(0.5) within group (order by {{ expression }})
{%- endmacro %}

{% macro quantile_of(expression, fraction) -%}
    {#- interpolated (continuous) quantile -#}
    {{ return(adapter.dispatch('quantile_of', 'citystat')(expression, fraction)) }}
{%- endmacro %}

{% macro duckdb__quantile_of(expression, fraction) -%}
    quantile_cont({{ expression }}, {{ fraction }})
{%- endmacro %}

{% macro default__quantile_of(expression, fraction) -%}
    percentile_cont({{ fraction }}) within group (order by {{ expression }})
{%- endmacro %}

{% macro value_at_max(value, order_by) -%}
    {#- the value on the row where order_by is largest (rows with a NULL order_by ignored) -#}
    {{ return(adapter.dispatch('value_at_max', 'citystat')(value, order_by)) }}
{%- endmacro %}

{% macro duckdb__value_at_max(value, order_by) -%}
    arg_max({{ value }}, {{ order_by }})
{%- endmacro %}

{% macro postgres__value_at_max(value, order_by) -%}
    (array_agg({{ value }} order by {{ order_by }} desc) filter (where {{ order_by }} is not null))[1]
{%- endmacro %}

{% macro round_double(expression, digits) -%}
    {#- PostgreSQL rounds only numeric to a number of digits -#}
    {{ return(adapter.dispatch('round_double', 'citystat')(expression, digits)) }}
{%- endmacro %}

{% macro duckdb__round_double(expression, digits) -%}
    round({{ expression }}, {{ digits }})
{%- endmacro %}

{% macro postgres__round_double(expression, digits) -%}
    cast(round(cast({{ expression }} as numeric), {{ digits }}) as double precision)
{%- endmacro %}

{% macro date_name(part, date_expr) -%}
    {#- part: month | day -> 'January', 'Monday' -#}
    {{ return(adapter.dispatch('date_name', 'citystat')(part, date_expr)) }}
{%- endmacro %}

{% macro duckdb__date_name(part, date_expr) -%}
    {{ part }}name({{ date_expr }})
{%- endmacro %}

{% macro postgres__date_name(part, date_expr) -%}
    to_char({{ date_expr }}, {{ "'FMMonth'" if part == 'month' else "'FMDay'" }})
{%- endmacro %}

{% macro most_common(expression) -%}
    {{ return(adapter.dispatch('most_common', 'citystat')(expression)) }}
{%- endmacro %}

{% macro duckdb__most_common(expression) -%}
    mode({{ expression }})
{%- endmacro %}

{% macro default__most_common(expression) -%}
    mode() within group (order by {{ expression }})
{%- endmacro %}

{% macro divide(numerator, denominator) -%}
    {#- a fraction, also of two integers (PostgreSQL's integer / integer truncates; DuckDB's does not) -#}
    {{ return(adapter.dispatch('divide', 'citystat')(numerator, denominator)) }}
{%- endmacro %}

{% macro duckdb__divide(numerator, denominator) -%}
    {{ numerator }} / {{ denominator }}
{%- endmacro %}

{% macro default__divide(numerator, denominator) -%}
    cast({{ numerator }} as double precision) / {{ denominator }}
{%- endmacro %}

{% macro month_start_of(date_expr) -%}
    {#- first instant of the month, a naive timestamp as DuckDB's date_trunc gives for a date -#}
    {{ return(adapter.dispatch('month_start_of', 'citystat')(date_expr)) }}
{%- endmacro %}

{% macro duckdb__month_start_of(date_expr) -%}
    date_trunc('month', {{ date_expr }})
{%- endmacro %}

{% macro postgres__month_start_of(date_expr) -%}
    date_trunc('month', cast({{ date_expr }} as timestamp))
{%- endmacro %}

{% macro count_true(condition) -%}
    {#- rows where condition is true; NULL when it is NULL on every row (DuckDB's count_if) -#}
    {{ return(adapter.dispatch('count_true', 'citystat')(condition)) }}
{%- endmacro %}

{% macro duckdb__count_true(condition) -%}
    count_if({{ condition }})
{%- endmacro %}

{% macro default__count_true(condition) -%}
    sum(case when {{ condition }} then 1 when not ({{ condition }}) then 0 end)
{%- endmacro %}
