{#- Reading landing batches. Every landing row carries _load_id, _extracted_at (UTC), _source_cursor,
    _source_file and _row_number next to the source's own columns (docs/contracts.md, "Landing"). -#}

{% macro pii_columns(source_name, table_name) -%}
    {#- Columns the data inventory marks `sensitivity: pii`, read from the source definition that
        scripts/generate_sources.py writes from data_inventory/inventory.yaml. -#}
    {%- set found = [] -%}
    {%- if execute -%}
        {%- for node in graph.get('sources', {}).values() -%}
            {%- if node.source_name == source_name and node.name == table_name -%}
                {%- for column in node.columns.values() -%}
                    {%- set meta = column.get('meta') or {} -%}
                    {%- set config_meta = (column.get('config') or {}).get('meta') or {} -%}
                    {%- if meta.get('sensitivity') == 'pii' or config_meta.get('sensitivity') == 'pii' -%}
                        {%- do found.append(column.name) -%}
                    {%- endif -%}
                {%- endfor -%}
            {%- endif -%}
        {%- endfor -%}
    {%- endif -%}
    {{ return(found) }}
{%- endmacro %}

{% macro landing_source(source_name, table_name, window_column=none) -%}
    {{ return(adapter.dispatch('landing_source', 'citystat')(source_name, table_name, window_column)) }}
{%- endmacro %}

{% macro duckdb__landing_source(source_name, table_name, window_column=none) -%}
    {#- The landing rows of one dataset with every pii column dropped before anything else can read it.
        Every field the inventory declares is present (NULL where no batch has it yet: an API may omit a
        column that is empty everywhere). _row_hash fingerprints the source values (pii included) to
        recognise exact duplicate rows. Incremental models read only the batches from the newest one they hold
        on, minus that batch's rows they hold (a batch's parts are renamed into place one by one: a run may have
        seen only some of them), plus the records whose own updated time falls in the run's window. The batch
        filter is a constant on the plain _load_id column, so the Parquet reader skips older batches by their
        statistics instead of reading and typing every landed row. -#}
    {%- set pii = pii_columns(source_name, table_name) -%}
    {%- set declared = inventory_fields(source_name, table_name) -%}
    select
        * exclude ({% for column in pii %}"{{ column }}", {% endfor %}filename),
        filename as _landing_file,
        hash(*columns(* exclude (_load_id, _extracted_at, _source_cursor, _source_file, _row_number, filename))) as _row_hash
    from (
        {%- if declared %}
        select {% for field in declared %}null as "{{ field.name }}"{{ ', ' if not loop.last }}{% endfor %}
        where false
        union all by name
        {%- endif %}
        {%- if is_incremental() %}
        {%- set newest = sql_literal(newest_load_held()) %}
        select new_rows.* from {{ source(source_name, table_name) }} as new_rows
        anti join (select _load_id, _source_file, _row_number from {{ this }} where _load_id = {{ newest }}) as held
            on {{ clean_text('new_rows._load_id') }} = held._load_id
            and cast(new_rows._row_number as bigint) = held._row_number
            and {{ clean_text('new_rows._source_file') }} is not distinct from held._source_file
        where new_rows._load_id >= {{ newest }}
            {%- if window_column is not none and run_window_given() %}
            or {{ in_run_window(window_column) }}
            {%- endif %}
        {%- else %}
        select * from {{ source(source_name, table_name) }}
        {%- endif %}
    ) as landed
{%- endmacro %}

{% macro postgres__landing_source(source_name, table_name, window_column=none) -%}
    {#- The same rows from the raw table the loader filled (citystat/postgres_warehouse.py): explicit column lists
        instead of `* exclude` and `union by name`, and md5 of the row's text instead of DuckDB's hash(). -#}
    {%- set pii = pii_columns(source_name, table_name) -%}
    {%- set metadata = ['_load_id', '_extracted_at', '_source_cursor', '_source_file', '_row_number', 'filename'] -%}
    {%- set landed = relation_columns(source(source_name, table_name)) -%}
    {%- set missing = [] -%}
    {%- for field in inventory_fields(source_name, table_name) if field.name not in landed -%}{% do missing.append(field.name) %}{%- endfor -%}
    {%- set values = [] -%}
    {%- for name in landed if name not in metadata -%}{% do values.append(name) %}{%- endfor -%}
    select
        {% for name in missing if name not in pii %}cast(null as text) as {{ sql_identifier(name) }},
        {% endfor -%}
        {% for name in landed if name not in pii and name != 'filename' %}landed.{{ sql_identifier(name) }},
        {% endfor -%}
        landed.filename as _landing_file,
        md5(cast(row({{ column_list(values, 'landed') if values else 'null' }}) as text)) as _row_hash
    from {{ source(source_name, table_name) }} as landed
    {%- if is_incremental() and window_column is not none %}
    where {{ extracted_since_last_run() }}
        or {{ in_run_window(window_column) }}
    {%- endif %}
{%- endmacro %}

{% macro extracted_since_last_run() -%}
    timezone('UTC', {{ try_cast_to('cast(_extracted_at as varchar)', 'timestamptz') }})
                >= (select coalesce(max(_extracted_at), timestamp '1900-01-01') from {{ this }})
{%- endmacro %}

{% macro newest_load_held() -%}
    {#- The newest batch an incremental model holds rows of ('' when it holds none). Load ids sort by the time
        their batch was committed (citystat/landing.py makes the id and _extracted_at together under the dataset's
        lock), so ">= this id" reads what "extracted since the last run" reads. -#}
    {%- if execute -%}
        {%- set newest = run_query("select coalesce(max(_load_id), '') from " ~ this) -%}
        {{ return(newest.columns[0].values()[0]) }}
    {%- endif -%}
    {{ return('') }}
{%- endmacro %}

{% macro landing_metadata_names() -%}
    {#- the columns landing_metadata() gives, in its order -#}
    {{ return(['_load_id', '_extracted_at', '_source_cursor', '_source_file', '_row_number', '_landing_file', '_row_hash']) }}
{%- endmacro %}

{% macro landing_metadata() -%}
        {{ clean_text('_load_id') }} as _load_id,
        timezone('UTC', {{ try_cast_to(clean_text('_extracted_at'), 'timestamptz') }}) as _extracted_at,
        {{ clean_text('_source_cursor') }} as _source_cursor,
        {{ clean_text('_source_file') }} as _source_file,
        cast(_row_number as bigint) as _row_number,
        _landing_file,
        _row_hash
{%- endmacro %}

{% macro run_window_given() -%}
    {#- a run asked to reprocess a date range (both ends given) -#}
    {{ return((var("window_start", "") | string | length > 0) and (var("window_end", "") | string | length > 0)) }}
{%- endmacro %}

{% macro in_run_window(column) -%}
    {#- Records to reprocess by their own updated time: the window a run asks for (`citystat run --reprocess-from/--to`,
        or the dbt asset's run config in the UI); none on an ordinary run. -#}
    {%- if run_window_given() -%}
    ({{ column }} >= timestamp '{{ var("window_start") }}' and {{ column }} < timestamp '{{ var("window_end") }}')
    {%- else -%}
    false
    {%- endif -%}
{%- endmacro %}

{% macro same_landing_row(left, right) -%}
    {#- join condition: the same landing row (row numbers restart in each file of a file-drop batch) -#}
    {{ left }}._load_id = {{ right }}._load_id
    and {{ left }}._row_number = {{ right }}._row_number
    and {{ left }}._source_file is not distinct from {{ right }}._source_file
{%- endmacro %}
