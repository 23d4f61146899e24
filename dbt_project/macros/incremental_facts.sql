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
    {{ return(adapter.dispatch('delete_unstaged', 'citystat')(key, staged_model)) }}
{%- endmacro %}

{% macro duckdb__delete_unstaged(key, staged_model) -%}
    delete from {{ this }} where {{ key }} not in (select {{ key }} from {{ ref(staged_model) }})
{%- endmacro %}

{#- PostgreSQL runs `not in (subquery)` as a subplan scanned once per row when the keys do not fit in work_mem (NULL
    semantics keep it from an anti-join): quadratic, hours at scale 10. `not exists` is an anti-join; the same rows
    go, as staged keys are never NULL (their not_null tests). -#}
{% macro default__delete_unstaged(key, staged_model) -%}
    delete from {{ this }} as held where held.{{ key }} is not null and not exists
        (select 1 from {{ ref(staged_model) }} as staged where staged.{{ key }} = held.{{ key }})
{%- endmacro %}
