{#- Rows of the current delivery of a feed for every term: superseded and rejected
    files stay in raw for the load history but are not read downstream. -#}
{% macro current_rows(source_name, table_name) -%}
    select delivered.*
    from {{ source(source_name, table_name) }} as delivered
    inner join {{ source('audit', 'load_files') }} as load_file
        on delivered.load_id = load_file.load_id
    where load_file.superseded_at is null
        and load_file.status = 'loaded'
{%- endmacro %}

{#- The current (loaded, not superseded) files of a feed, with their content hash. -#}
{% macro current_loads(feed) -%}
    select load_id, sha256
    from {{ source('audit', 'load_files') }}
    where feed = '{{ feed }}'
        and status = 'loaded'
        and superseded_at is null
{%- endmacro %}
