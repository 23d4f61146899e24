{#- Deduplication shared by every base model.

    Input: a CTE of typed landing rows that already carries the row-local quarantine rule columns.
    A landing row is identified by (_load_id, _source_file, _row_number): row numbers restart in each
    file of a file-drop batch.
    Output rows (one of each kind):
      * the latest version of every primary key (newest by `version_order`, then extraction time,
        load id and row number) -- staged unless a rule quarantines it;
      * exact duplicate copies of a row inside the same batch, flagged `duplicate_row`;
      * rows without a usable primary key (their rule says why).
    Every other landing row is a superseded version. Per batch:
      raw rows = staged rows + quarantined rows + superseded versions.

    Incremental models read only new batches (see landing_source), skip rows already processed, and
    re-rank the new rows together with the stored latest version of the same keys, so an incremental
    run ends with exactly the rows a full refresh computes. -#}
{% macro deduplicated_versions(checked, key, version_order) -%}
    {{ return(adapter.dispatch('deduplicated_versions', 'citystat')(checked, key, version_order)) }}
{%- endmacro %}

{% macro duckdb__deduplicated_versions(checked, key, version_order) -%}
    {%- set key_list = [key] if key is string else key -%}
    {%- set key_cols = key_list | join(', ') -%}
fresh as (
    select checked.* from {{ checked }} as checked
    {%- if is_incremental() %}
    anti join {{ this }} as processed on {{ same_landing_row('processed', 'checked') }}
    {%- endif %}
),

flagged as (
    select
        * exclude (_quarantine_rule, _quarantine_reason),
        {{ duplicate_copy_flags(key_cols) }}
),

candidates as (
    select * from flagged
    {%- if is_incremental() %}
    union all by name
    select stored.* from {{ this }} as stored
    semi join flagged on {% for k in key_list %}stored.{{ k }} = flagged.{{ k }}{{ ' and ' if not loop.last }}{% endfor %}
    {%- endif %}
),

{{ latest_versions(key_list, version_order, '* exclude (_version_rank)') }}
{%- endmacro %}


{% macro postgres__deduplicated_versions(checked, key, version_order) -%}
    {#- The same steps with the model's declared columns instead of `* exclude` (this also drops _raw) -#}
    {%- set key_list = [key] if key is string else key -%}
    {%- set key_cols = key_list | join(', ') -%}
    {%- set columns = declared_columns() -%}
    {%- set plain = declared_columns(exclude=['_quarantine_rule', '_quarantine_reason', '_is_duplicate_copy']) -%}
fresh as (
    select checked.* from {{ checked }} as checked
    {%- if is_incremental() %}
    where not exists (select 1 from {{ this }} as processed where {{ same_landing_row('processed', 'checked') }})
    {%- endif %}
),

flagged as (
    select
        {{ column_list(plain) }},
        {{ duplicate_copy_flags(key_cols) }}
),

candidates as (
    select {{ column_list(columns) }} from flagged
    {%- if is_incremental() %}
    union all
    select {{ column_list(columns, 'stored') }} from {{ this }} as stored
    where exists (select 1 from flagged where {% for k in key_list %}stored.{{ k }} = flagged.{{ k }}{{ ' and ' if not loop.last }}{% endfor %})
    {%- endif %}
),

{{ latest_versions(key_list, version_order, column_list(columns)) }}
{%- endmacro %}

{% macro latest_versions(key_list, version_order, output_columns) -%}
    {#- the last steps of both implementations: rank each key's candidates newest first, keep the latest version,
        every duplicate copy and every row without a key; `output_columns` drops _version_rank -#}
ranked as (
    select
        *,
        row_number() over (
            partition by {{ key_list | join(', ') }}, _is_duplicate_copy
            order by {{ version_order }}, _extracted_at desc, _load_id desc, _source_file desc nulls last, _row_number desc
        ) as _version_rank
    from candidates
)

select {{ output_columns }}
from ranked
where _version_rank = 1
    or _is_duplicate_copy
    or {% for k in key_list %}{{ k }} is null{{ ' or ' if not loop.last }}{% endfor %}
{%- endmacro %}

{% macro duplicate_copy_flags(key_cols) -%}
    {#- the flagged step's own columns (both warehouses): exact copies of a row within a batch become duplicate_row -#}
        row_number() over copies > 1 as _is_duplicate_copy,
        case when row_number() over copies > 1 then 'duplicate_row' else _quarantine_rule end as _quarantine_rule,
        case
            when row_number() over copies > 1
                then 'exact duplicate of row ' || first_value(_row_number) over copies
                    || ' of ' || coalesce(first_value(_source_file) over copies, 'load ' || _load_id)
            else _quarantine_reason
        end as _quarantine_reason
    from fresh
    window copies as (partition by _load_id, {{ key_cols }}, _row_hash order by _source_file desc nulls last, _row_number desc)
{%- endmacro %}
