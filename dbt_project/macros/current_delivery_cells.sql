{#- The cells an audit table of the loader (formula_cells, control_char_cells) notes in
    the current deliveries: term, feed, file, row and column - never the value. Shared by
    the data tests that report them (tests/formula_like_cells.sql,
    tests/control_character_cells.sql). -#}
{% macro current_delivery_cells(cells_table) -%}
with cells as (
    select * from {{ source('audit', cells_table) }}
),

current_files as (
    select * from {{ source('audit', 'load_files') }}
    where superseded_at is null
),

final as (
    select current_files.term_id, current_files.feed, current_files.file_name, cells.source_row, cells.column_name
    from cells
    inner join current_files on cells.load_id = current_files.load_id
)

select * from final
{%- endmacro %}
