{#- The one audited way a value from the inventory, a variable or a data file becomes SQL text in a macro
    (the Python twin is citystat.warehouse.quote_literal / quote_identifier). A value is data, never SQL:
    `sql_literal` doubles every single quote (DuckDB and PostgreSQL read no backslash escapes in '...'),
    `sql_identifier` doubles every double quote, `sql_number` accepts only a number. Tested with hostile
    strings in tests/hostile/test_sql_injection.py. -#}

{% macro sql_literal(value) -%}
    {%- if value is none -%}
        cast(null as varchar)
    {%- else -%}
        '{{ value | string | replace("'", "''") }}'
    {%- endif -%}
{%- endmacro %}

{% macro sql_identifier(name) -%}
    "{{ name | string | replace('"', '""') }}"
{%- endmacro %}

{% macro sql_number(value) -%}
    {%- if value is number and value is not boolean and (value | string | lower) not in ('nan', 'inf', '-inf') -%}
        {{ value }}
    {%- else -%}
        {{ exceptions.raise_compiler_error("not a number: " ~ (value | string)[:40]) }}
    {%- endif -%}
{%- endmacro %}
