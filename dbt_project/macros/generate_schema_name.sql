{#- Custom schemas are used as-is (marts, staging, quality, ...), not prefixed with the target schema:
    the published snapshot exposes them under these exact names. -#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {%- if custom_schema_name is none -%}{{ target.schema }}{%- else -%}{{ custom_schema_name | trim }}{%- endif -%}
{%- endmacro %}
