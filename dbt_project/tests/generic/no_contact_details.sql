{#- Free text carries no e-mail address or stand-alone phone number (they are masked in staging). -#}
{% test no_contact_details(model, column_name) %}
select {{ column_name }}
from {{ model }}
where {{ regexp_contains(column_name, "'[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}'") }}
   or {{ regexp_contains(column_name, "'(^|[^0-9A-Za-z_-])(\+?1[ .-]?)?(\(\d{3}\) ?|\d{3}[ .-]?)\d{3}[ .-]?\d{4}([^0-9]|$)'") }}
{% endtest %}
