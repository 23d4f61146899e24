{#- Incremental facts hold exactly one row per staged record, tagged with the landing row it came from.
    A run (re)computes the staged records the fact does not hold in their current version (new records,
    new versions, records that left quarantine) plus those whose own updated time falls in the run's
    window (a re-run or backfill of a Dagster partition), and deletes records that are no longer staged
    (their latest version is quarantined). So an incremental run after new loads ends with exactly the
    rows a full refresh computes, whatever the window. -#}

{% macro changed_records(staged, key, window_column) -%}
    select {{ staged }}.*
    from {{ staged }}
    left join {{ this }} as held
        on held.{{ key }} = {{ staged }}.{{ key }}
        and {{ same_landing_row('held', staged) }}
    where held.{{ key }} is null
        or {{ in_run_window(staged ~ '.' ~ window_column) }}
{%- endmacro %}

{% macro delete_unstaged(key, staged_model) -%}
    delete from {{ this }} where {{ key }} not in (select {{ key }} from {{ ref(staged_model) }})
{%- endmacro %}
