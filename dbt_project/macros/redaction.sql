{#- Free text the inventory marks sensitive (descriptions, status notes, inspection notes) is kept for
    analysis, but personal details typed into it by callers or staff are masked first: e-mail addresses, phone
    numbers, and names introduced the way people write them into notes ("call Carmen Lopez at ...", "spoke with
    Mr. Harris", "owner Jane Q. Doe"). This is a pattern recognizer with context words (as Presidio's pattern
    recognizers work); then redact_names() (citystat.personal_names, registered by the citystat.dbt_udfs plugin)
    masks names written with no cue ("Carmen Lopez reported it"): a census given name followed by a census
    surname. See docs/personal_data.md. -#}

{% macro name_cues() -%}
    {#- the words that introduce a name, matched in any case -#}
    call(?:ed|ing)?|contact(?:ed|ing)?|ask(?:ed)? for|speak(?:s|ing)? (?:to|with)|spoke (?:to|with)|talk(?:ed)? (?:to|with)|attn:?|attention:?|owner|tenant|caller|resident|neighbou?r|landlord|complainant|reported by|mr\.?|mrs\.?|ms\.?|miss|dr\.?
{%- endmacro %}

{% macro name_pattern() -%}
    {{ return(adapter.dispatch('name_pattern', 'citystat')()) }}
{%- endmacro %}

{% macro duckdb__name_pattern() -%}
    {#- group 1 keeps the cue; the name is one to three capitalised words (O'Neil, Harris-Owens, initials) -#}
    '((?i:\b(?:{{ name_cues() }}))\s+(?:(?:Mr|Mrs|Ms|Miss|Dr)\.?\s+)?)[A-Z][a-z]*(?:[-\x27][A-Z]?[a-z]+)?(?:\s+[A-Z](?:\.|[a-z]*(?:[-\x27][A-Z]?[a-z]+)?)){0,2}'
{%- endmacro %}

{% macro postgres__name_pattern() -%}
    {#- PostgreSQL's regular expressions have no (?i:...) group and write a word boundary \y: the cue words get
        [cC]-style classes; the rest is the same pattern -#}
    {%- set cased = namespace(text='') -%}
    {%- for ch in name_cues() | string -%}
        {%- set cased.text = cased.text ~ ('[' ~ ch | lower ~ ch | upper ~ ']' if ch.isalpha() else ch) -%}
    {%- endfor -%}
    '((?:\y(?:{{ cased.text }}))\s+(?:(?:Mr|Mrs|Ms|Miss|Dr)\.?\s+)?)[A-Z][a-z]*(?:[-''][A-Z]?[a-z]+)?(?:\s+[A-Z](?:\.|[a-z]*(?:[-''][A-Z]?[a-z]+)?)){0,2}'
{%- endmacro %}

{% macro redact_contact_details(column) -%}
    {#- phone numbers only where they stand alone: not inside ids such as GL-202504000133 -#}
    {%- set cue_words_and_contacts -%}
    regexp_replace(
        regexp_replace(
            regexp_replace(
                {{ clean_text(column) }},
                '[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}', '[email redacted]', 'g'),
            '(^|[^0-9A-Za-z_-])(\+?1[ .-]?)?(\(\d{3}\) ?|\d{3}[ .-]?)\d{3}[ .-]?\d{4}([^0-9]|$)',
            '\1[phone redacted]\4', 'g'),
        {{ name_pattern() }}, '\1[name redacted]', 'g')
    {%- endset %}
    {{ redact_names_call(cue_words_and_contacts) }}
{%- endmacro %}

{% macro redact_names_call(expression) -%}
    {#- redact_names() is a Python function a DuckDB connection gets from citystat.personal_names.register (dbt's
        through the citystat.dbt_udfs plugin; the open-data exports render this macro outside dbt, with no target,
        on a connection they register it on); a warehouse on another engine needs its own -#}
    {%- if target is not defined or target.type == 'duckdb' -%} redact_names({{ expression }}) {%- else -%} {{ expression }} {%- endif -%}
{%- endmacro %}
