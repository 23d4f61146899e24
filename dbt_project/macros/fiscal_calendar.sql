{#- Riverton's fiscal year runs July-June and is named by the calendar year it ends in (FY2025 = 2024-07-01 ..
    2025-06-30); fiscal period 1 is July, 12 is June; fiscal quarter 1 is July-September. -#}
{% macro fiscal_year(date_expr) -%}
    ({{ date_part_of('year', date_expr) }} + case when {{ date_part_of('month', date_expr) }} >= 7 then 1 else 0 end)
{%- endmacro %}

{% macro fiscal_period(date_expr) -%}
    (({{ date_part_of('month', date_expr) }} + 5) % 12 + 1)
{%- endmacro %}

{% macro fiscal_quarter(date_expr) -%}
    ({{ integer_divide('(' ~ fiscal_period(date_expr) ~ ' - 1)', 3) }} + 1)
{%- endmacro %}

{% macro fiscal_year_start(fiscal_year_expr) -%}
    make_date(cast({{ fiscal_year_expr }} as integer) - 1, 7, 1)
{%- endmacro %}
