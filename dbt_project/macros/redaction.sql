{#- Free text the inventory marks sensitive (descriptions, status notes, inspection notes) is kept for
    analysis, but e-mail addresses and phone numbers typed into it by callers or staff are masked first. -#}
{% macro redact_contact_details(column) -%}
    {#- phone numbers only where they stand alone: not inside ids such as GL-202504000133 -#}
    regexp_replace(
        regexp_replace(
            {{ clean_text(column) }},
            '[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}', '[email redacted]', 'g'),
        '(^|[^0-9A-Za-z_-])(\+?1[ .-]?)?(\(\d{3}\) ?|\d{3}[ .-]?)\d{3}[ .-]?\d{4}([^0-9]|$)',
        '\1[phone redacted]\4', 'g')
{%- endmacro %}
