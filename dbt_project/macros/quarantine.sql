{#- Quarantine: rows that break a hard rule are kept aside with the rule and a reason, never dropped.

    Rules are dicts {rule, when, reason}: `when` is a SQL condition, `reason` a SQL text expression naming
    the field and the offending value. The first matching rule wins. Row-local rules (missing or
    unreadable values, codes outside the allowed values, impossible orders of dates, negative amounts)
    run in the base model; rules that depend on other data or on "today" (orphan keys, future dates)
    run in the quarantine model on every build, so they always reflect the current state.

    Rule vocabulary: missing_required, uncastable_value, invalid_code, out_of_range, negative_amount,
    closed_before_opened, addressed_without_evidence, future_date, orphan_key, duplicate_row, conflicting_flag. -#}

{% macro rule_columns(rules) -%}
    {%- if rules | length == 0 -%}
        cast(null as varchar) as _quarantine_rule,
        cast(null as varchar) as _quarantine_reason
    {%- else -%}
        case {% for r in rules %}
            when {{ r.when }} then {{ sql_literal(r.rule) }}{% endfor %}
        end as _quarantine_rule,
        case {% for r in rules %}
            when {{ r.when }} then {{ r.reason }}{% endfor %}
        end as _quarantine_reason
    {%- endif -%}
{%- endmacro %}

{#- `raw` names the landing column (read from the `_raw` struct of the untyped row), `column` the typed one.
    Every name and value that comes from the inventory reaches SQL through sql_literal / sql_identifier /
    sql_number (macros/sql_text.sql): a reason is built as literal || value || literal, never by splicing. -#}
{% macro raw_text(raw) -%}
    {{ clean_text(landing_field('_raw', raw)) }}
{%- endmacro %}

{% macro quoted_value_reason(prefix, value_sql, suffix) -%}
    {#- prefix 'value' suffix, e.g. status 'vacant' is not one of open, closed -#}
    {{- sql_literal(prefix ~ " '") ~ ' || ' ~ value_sql ~ ' || ' ~ sql_literal("' " ~ suffix) -}}
{%- endmacro %}

{% macro rule_required(column, raw=none, type_name='value') -%}
    {%- set raw = raw or column -%}
    {{ return([
        {'rule': 'missing_required',
         'when': raw_text(raw) ~ ' is null',
         'reason': sql_literal('required field ' ~ raw ~ ' is empty')},
        {'rule': 'uncastable_value',
         'when': column ~ ' is null',
         'reason': quoted_value_reason(raw, raw_text(raw), 'is not a valid ' ~ type_name)},
    ]) }}
{%- endmacro %}

{% macro rule_castable(column, raw=none, type_name='value') -%}
    {%- set raw = raw or column -%}
    {{ return({'rule': 'uncastable_value',
               'when': raw_text(raw) ~ ' is not null and ' ~ column ~ ' is null',
               'reason': quoted_value_reason(raw, raw_text(raw), 'is not a valid ' ~ type_name)}) }}
{%- endmacro %}

{% macro rule_allowed_values(column, values, raw=none) -%}
    {%- set raw = raw or column -%}
    {%- set quoted = [] -%}{%- for v in values %}{% do quoted.append(sql_literal(v | string | lower)) %}{% endfor -%}
    {{ return({'rule': 'invalid_code',
               'when': raw_text(raw) ~ ' is not null and lower(' ~ raw_text(raw) ~ ') not in (' ~ quoted | join(', ') ~ ')',
               'reason': quoted_value_reason(raw, raw_text(raw), 'is not one of ' ~ values | join(', '))}) }}
{%- endmacro %}

{% macro rule_pattern(column, pattern, raw=none) -%}
    {%- set raw = raw or column -%}
    {{ return({'rule': 'invalid_code',
               'when': raw_text(raw) ~ ' is not null and not ' ~ regexp_matches_fully(raw_text(raw), sql_literal(pattern)),
               'reason': quoted_value_reason(raw, raw_text(raw), 'does not match ' ~ pattern)}) }}
{%- endmacro %}

{% macro rule_not_negative(column) -%}
    {{ return({'rule': 'negative_amount',
               'when': column ~ ' < 0',
               'reason': sql_literal(column ~ ' ') ~ ' || ' ~ column ~ ' || ' ~ sql_literal(' is negative')}) }}
{%- endmacro %}

{% macro rule_range(column, minimum=none, maximum=none) -%}
    {%- set conditions = [] -%}
    {%- if minimum is not none %}{% do conditions.append(column ~ ' < ' ~ sql_number(minimum)) %}{% endif -%}
    {%- if maximum is not none %}{% do conditions.append(column ~ ' > ' ~ sql_number(maximum)) %}{% endif -%}
    {{ return({'rule': 'out_of_range',
               'when': '(' ~ conditions | join(' or ') ~ ')',
               'reason': sql_literal(column ~ ' ') ~ ' || ' ~ column ~ ' || '
                         ~ sql_literal(' is outside [' ~ minimum ~ ', ' ~ maximum ~ ']')}) }}
{%- endmacro %}

{% macro rule_not_before(later, earlier, rule='closed_before_opened') -%}
    {{ return({'rule': rule,
               'when': later ~ ' < ' ~ earlier,
               'reason': sql_literal(later ~ ' ') ~ ' || ' ~ later ~ ' || ' ~ sql_literal(' is before ' ~ earlier ~ ' ') ~ ' || ' ~ earlier}) }}
{%- endmacro %}

{% macro rule(rule, when, reason) -%}
    {{ return({'rule': rule, 'when': when, 'reason': reason}) }}
{%- endmacro %}

{#- Contextual rules (quarantine models) -#}

{% macro as_of_limit() -%}
    {#- First instant after "today": the day after the as-of date when given, else the row's extraction time.
        The date comes from $CITYSTAT_DBT_AS_OF (set by citystat for each build), not --vars: a var that changes
        every day would make dbt re-parse the whole project, an env var only the files that read it. -#}
    {%- set as_of = var('as_of', '') or env_var('CITYSTAT_DBT_AS_OF', '') -%}
    {%- if as_of -%}
        (cast({{ sql_literal(as_of) }} as date) + interval '1 day')
    {%- else -%}
        timezone({{ sql_literal(var("city_timezone")) }}, timezone('UTC', _extracted_at))
    {%- endif -%}
{%- endmacro %}

{% macro rule_not_future(column) -%}
    {{ return({'rule': 'future_date',
               'when': column ~ ' >= ' ~ as_of_limit(),
               'reason': sql_literal(column ~ ' ') ~ ' || ' ~ column ~ ' || ' ~ sql_literal(' is after the as-of date')}) }}
{%- endmacro %}

{% macro rule_references(column, parent_model, parent_column=none, rule_name='orphan_key') -%}
    {#- a key (orphan_key) or a code (invalid_code) that must exist in the parent: its base model, so a parent
        that exists but is itself quarantined does not orphan its children -#}
    {%- set parent_column = parent_column or column -%}
    {{ return({'rule': rule_name,
               'when': column ~ ' is not null and ' ~ column ~ ' not in (select ' ~ parent_column ~ ' from ' ~ ref(parent_model)
                       ~ ' where ' ~ parent_column ~ ' is not null)',
               'reason': quoted_value_reason(column, column, 'has no match in ' ~ parent_model)}) }}
{%- endmacro %}

{% macro quarantine_rows(base_model, rules=[]) -%}
    {{ return(adapter.dispatch('quarantine_rows', 'citystat')(base_model, rules)) }}
{%- endmacro %}

{% macro duckdb__quarantine_rows(base_model, rules=[]) -%}
    {#- Rows of a base model that fail a row-local rule, or a contextual rule checked here. -#}
with base as (
    select * from {{ ref(base_model) }}
)

select * exclude (_is_duplicate_copy, _row_hash)
from base
where _quarantine_rule is not null

union all by name

select * exclude (_is_duplicate_copy, _row_hash)
from (
    select
        * exclude (_quarantine_rule, _quarantine_reason),
        {{ rule_columns(rules) }}
    from base
    where _quarantine_rule is null
)
where _quarantine_rule is not null
{%- endmacro %}

{% macro passing_rows(base_model, quarantine_model) -%}
    {{ return(adapter.dispatch('passing_rows', 'citystat')(base_model, quarantine_model)) }}
{%- endmacro %}

{% macro duckdb__passing_rows(base_model, quarantine_model) -%}
    {#- The staged rows: latest versions that no rule quarantined. -#}
select base.* exclude (_quarantine_rule, _quarantine_reason, _is_duplicate_copy, _row_hash, _landing_file)
from {{ ref(base_model) }} as base
anti join {{ ref(quarantine_model) }} as quarantined on {{ same_landing_row('quarantined', 'base') }}
where base._quarantine_rule is null
{%- endmacro %}


{% macro postgres__quarantine_rows(base_model, rules=[]) -%}
    {%- set columns = relation_columns(ref(base_model), exclude=['_is_duplicate_copy', '_row_hash']) -%}
    {%- set unruled = [] -%}
    {%- for name in columns if name not in ('_quarantine_rule', '_quarantine_reason') -%}{% do unruled.append(name) %}{%- endfor -%}
with base as (
    select * from {{ ref(base_model) }}
)

select {{ column_list(columns) }}
from base
where _quarantine_rule is not null

union all

select {{ column_list(columns) }}
from (
    select
        {{ column_list(unruled) }},
        {{ rule_columns(rules) }}
    from base
    where _quarantine_rule is null
) as checked
where _quarantine_rule is not null
{%- endmacro %}

{% macro postgres__passing_rows(base_model, quarantine_model) -%}
select {{ column_list(relation_columns(ref(base_model), exclude=['_quarantine_rule', '_quarantine_reason', '_is_duplicate_copy', '_row_hash', '_landing_file']), 'base') }}
from {{ ref(base_model) }} as base
where base._quarantine_rule is null
    and not exists (select 1 from {{ ref(quarantine_model) }} as quarantined where {{ same_landing_row('quarantined', 'base') }})
{%- endmacro %}
