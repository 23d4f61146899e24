{#- Generated staging of a canonical entity (data_inventory/entities.yaml). `citystat generate` writes, for every
    dataset that declares `implements: {entity, columns}`, three one-line models that call these macros; what they
    need (each canonical column, the field it is read from with that field's declared type and format, the
    contract's rules) is in the dbt source's meta, also generated (citystat/dbt_sources.py).

    The row's key is prefixed with its system id ("nyc311:123"): two systems' ids never collide, so a city with two
    311 systems gets both in one fact and never merges or duplicates a request. Every inventory value reaches SQL
    through sql_literal / sql_identifier (macros/sql_text.sql). -#}

{% macro entity_spec(source_name, table_name) -%}
    {%- set found = {} -%}
    {%- if execute -%}
        {%- for node in graph.sources.values() -%}
            {%- if node.source_name == source_name and node.name == table_name -%}
                {%- do found.update((node.get('meta') or (node.get('config') or {}).get('meta') or {}).get('implements') or {}) -%}
            {%- endif -%}
        {%- endfor -%}
    {%- endif -%}
    {{ return(found) }}
{%- endmacro %}

{% macro entity_value(source_name, c) -%}
    {%- if c.get('field') is none -%}
        {%- if c.get('default') is not none -%}cast({{ sql_literal(c['default']) }} as {{ c.sql_type }})
        {%- else -%}cast(null as {{ c.sql_type }}){%- endif -%}
    {%- else -%}
        {%- set column = sql_identifier(c['field']) -%}
        {%- if c.get('redact') -%}{%- set value = redact_contact_details(column) -%}
        {%- else -%}{%- set value = to_declared(column, c['type'], c.get('format')) -%}{%- endif -%}
        {%- if c.get('default') is not none -%}{%- set value = 'coalesce(' ~ value ~ ', ' ~ sql_literal(c['default']) ~ ')' -%}{%- endif -%}
        cast({{ value }} as {{ c.sql_type }})
    {%- endif -%}
{%- endmacro %}

{% macro entity_rules(source_name, table_name, spec) -%}
    {%- set castable, required, codes, orders = [], [], [], [] -%}
    {%- set typed = {} -%}
    {%- for c in spec.get('columns', []) if c.get('field') is not none -%}
        {%- do typed.update({c['field']: c['name']}) -%}
        {%- if c['type'] != 'string' -%}{%- do castable.append(rule_castable(c['name'], c['field'], c['type'])) -%}{%- endif -%}
    {%- endfor -%}
    {%- for c in spec.get('columns', []) -%}
        {%- set origin = c['name'] ~ (' (field ' ~ c['field'] ~ ')' if c.get('field') else ' (not mapped)') -%}
        {%- if c.get('required') -%}
            {%- do required.append(rule('missing_required', c['name'] ~ ' is null', sql_literal('required ' ~ origin ~ ' is empty'))) -%}
        {%- endif -%}
        {%- if c.get('required_when') -%}
            {%- do required.append(rule('missing_required', '(' ~ c['required_when'] ~ ') and ' ~ c['name'] ~ ' is null',
                  sql_literal(origin ~ ' is empty, but ' ~ c['required_when']))) -%}
        {%- endif -%}
        {%- if c.get('allowed_values') -%}
            {%- set quoted = [] -%}{%- for v in c['allowed_values'] %}{% do quoted.append(sql_literal(v)) %}{% endfor -%}
            {%- do codes.append(rule('invalid_code', c['name'] ~ ' is not null and ' ~ c['name'] ~ ' not in (' ~ quoted | join(', ') ~ ')',
                  quoted_value_reason(origin, c['name'], 'is not one of ' ~ c['allowed_values'] | join(', ') ~ ' (add it to the code_map)'))) -%}
        {%- endif -%}
        {%- if c.get('not_before') -%}{%- do orders.append(rule_not_before(c['name'], c['not_before'])) -%}{%- endif -%}
        {%- if c.get('agrees_with') -%}
            {%- do orders.append(rule('conflicting_flag',
                  c['name'] ~ ' is not null and (' ~ c['agrees_with'] ~ ') is not null and ' ~ c['name'] ~ ' <> (' ~ c['agrees_with'] ~ ')',
                  sql_literal(origin ~ ' says ') ~ ' || ' ~ c['name'] ~ ' || ' ~ sql_literal(' but ' ~ c['agrees_with'] ~ ' is not'))) -%}
        {%- endif -%}
    {%- endfor -%}
    {{ return(castable + required + inventory_rules(source_name, table_name, typed) + codes + orders) }}
{%- endmacro %}

{% macro entity_base(source_name, table_name) -%}
    {#- The typed, checked and deduplicated rows of one dataset in its entity's columns (the base model). -#}
    {%- set spec = entity_spec(source_name, table_name) -%}
    {%- set columns = spec.get('columns', []) -%}
with landed_rows as (
    {{ landing_source(source_name, table_name) }}
),

mapped as (
    select
        {%- for c in columns %}
        {% if c['name'] == spec['key'] %}{{ sql_literal(source_name ~ ':') }} || {% elif c.get('prefix') %}{{ sql_literal(c['prefix']) }} || {% endif %}{{ entity_value(source_name, c) }} as {{ sql_identifier(c['name']) }},
        {%- endfor %}
        {{ landing_metadata() }},
        {#- the whole row; not named `source`, which an export may have as a column (Boston's does) #}
        {{ landing_row("landed_rows") }} as _raw
    from landed_rows
),

completed as (
    {#- fallbacks (the first non-empty of the columns named) and upper-casing, column by column: PostgreSQL has no
        `* replace` #}
    select
        {%- for c in columns %}
        {%- set value = 'coalesce(' ~ c['name'] ~ ', ' ~ c['fallback'] | join(', ') ~ ')' if c.get('fallback') else sql_identifier(c['name']) %}
        {{ 'upper(' ~ value ~ ')' if c.get('upper') else value }} as {{ sql_identifier(c['name']) }},
        {%- endfor %}
        {{ landing_metadata_names() | join(', ') }}, _raw
    from mapped
),

checked as (
    select
        {{ without_landing_row() }},
        {{ rule_columns(entity_rules(source_name, table_name, spec)) }}
    from completed
),

{{ deduplicated_versions('checked', spec.get('key', 'id'), spec.get('version', '_extracted_at') ~ ' desc nulls last') }}
{%- endmacro %}

{% macro entity_union(columns, members) -%}
    {#- The union model of one entity: `columns` [(name, SQL type)] from every member [(system, relation)]. Each
        member's columns are picked by name, a typed null where it has none (a hand-written staging model may not
        map every canonical column): what DuckDB's `union all by name` did, written so PostgreSQL runs it too. A
        member not built yet (a bare `dbt compile`) gets every column by name. -#}
    {%- set typed_nulls = [] -%}
    {%- for name, sql_type in columns -%}{%- do typed_nulls.append('cast(null as ' ~ sql_type ~ ') as ' ~ sql_identifier(name)) -%}{%- endfor %}
select cast(null as varchar) as source_system, {{ typed_nulls | join(', ') }}
where false
{%- for system, relation in members %}
    {%- set present = relation_columns(relation) | map('lower') | list %}
union all
select {{ sql_literal(system) }} as source_system,
    {%- for name, sql_type in columns %} {% if present and name | lower not in present %}{{ typed_nulls[loop.index0] }}{% else %}{{ sql_identifier(name) }}{% endif %}{{ ',' if not loop.last }}{% endfor %}
from {{ relation }}
{%- endfor %}
{%- endmacro %}
