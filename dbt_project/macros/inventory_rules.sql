{#- Row-level quarantine rules generated from the data inventory's field definitions (copied into the
    source definitions' column meta by scripts/generate_sources.py): required fields, values that must
    parse as the declared type, allowed values, numeric ranges. `typed` maps each landing column a base
    model keeps to its typed column name. -#}

{% macro inventory_fields(source_name, table_name) -%}
    {%- set fields = [] -%}
    {%- if execute and 'sources' not in graph -%}
        {#- a unit test compiles against a graph without sources: its fields come from the test's vars -#}
        {%- for name, meta in (var('unit_test_inventory_fields', {}).get(source_name ~ '.' ~ table_name) or {}).items() -%}
            {%- do fields.append({'name': name, 'meta': meta}) -%}
        {%- endfor -%}
    {%- elif execute -%}
        {%- for node in graph.sources.values() -%}
            {%- if node.source_name == source_name and node.name == table_name -%}
                {%- for column in node.columns.values() -%}
                    {%- set meta = column.get('meta') or (column.get('config') or {}).get('meta') or {} -%}
                    {%- if meta.get('type') -%}
                        {%- do fields.append({'name': column.name, 'meta': meta}) -%}
                    {%- endif -%}
                {%- endfor -%}
            {%- endif -%}
        {%- endfor -%}
    {%- endif -%}
    {{ return(fields) }}
{%- endmacro %}

{% macro inventory_rules(source_name, table_name, typed) -%}
    {%- set presence, codes, ranges = [], [], [] -%}
    {%- for field in inventory_fields(source_name, table_name) -%}
        {%- set meta = field.meta -%}
        {%- set column = typed.get(field.name) -%}
        {%- if column is not none and meta.get('sensitivity') != 'pii' -%}
            {%- set before = [presence | length, codes | length, ranges | length] -%}
            {%- set type_name = meta.get('type') -%}
            {%- if meta.get('required') -%}
                {%- for r in rule_required(column, field.name, type_name) -%}
                    {%- if r.rule == 'missing_required' or type_name != 'string' %}{% do presence.append(r) %}{% endif -%}
                {%- endfor -%}
            {%- elif type_name != 'string' -%}
                {%- do presence.append(rule_castable(column, field.name, type_name)) -%}
            {%- endif -%}
            {%- if meta.get('pattern') and type_name == 'string' -%}
                {%- do codes.append(rule_pattern(column, meta.get('pattern'), field.name)) -%}
            {%- endif -%}
            {%- if meta.get('allowed_values') -%}
                {%- do codes.append(rule_allowed_values(column, meta.get('allowed_values'), field.name)) -%}
            {%- endif -%}
            {%- if type_name in ('integer', 'number') and (meta.get('minimum') is not none or meta.get('maximum') is not none) -%}
                {%- if meta.get('minimum') == 0 -%}
                    {%- do ranges.append(rule_not_negative(column)) -%}
                {%- endif -%}
                {%- do ranges.append(rule_range(column, meta.get('minimum'), meta.get('maximum'))) -%}
            {%- endif -%}
            {%- if meta.get('sensitivity') == 'sensitive' -%}
                {#- free text that may hold personal details: the reason names the field and the rule, never the value -#}
                {%- for rules_list, start in [(presence, before[0]), (codes, before[1]), (ranges, before[2])] -%}
                    {%- for r in rules_list[start:] -%}
                        {%- do r.update({'reason': sql_literal(field.name ~ ' breaks ' ~ r.rule ~ ' (value not shown: sensitive field)')}) -%}
                    {%- endfor -%}
                {%- endfor -%}
            {%- endif -%}
        {%- endif -%}
    {%- endfor -%}
    {{ return(presence + codes + ranges) }}
{%- endmacro %}
