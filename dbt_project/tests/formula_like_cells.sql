-- Checks that no current delivery holds free text a spreadsheet would run as a formula
-- or DDE command (a cell starting with =, +, -, @, tab or CR; OWASP CSV injection).
-- Why it matters: such a name or 责任人 is an attack on whoever opens a workbook built
-- from it (a HYPERLINK that sends a neighbouring cell's identity number away, or a
-- command). KCBX writes these cells as text in its own workbooks, but the department's
-- system and any other export of it may not.
-- How to fix: the rows loaded as they were; ask the sending unit (feed, file and row are
-- listed, never the value) to correct the entry in its system and deliver again.
{{ config(severity='warn', store_failures=true) }}

with cells as (
    select * from {{ source('audit', 'formula_cells') }}
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
