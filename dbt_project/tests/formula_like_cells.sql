-- Checks that no current delivery holds free text a spreadsheet would run as a formula
-- or DDE command (a cell starting with =, +, -, @, tab or CR; OWASP CSV injection).
-- Why it matters: such a name or 责任人 is an attack on whoever opens a workbook built
-- from it (a HYPERLINK that sends a neighbouring cell's identity number away, or a
-- command). KCBX writes these cells as text in its own workbooks, but the department's
-- system and any other export of it may not.
-- How to fix: the rows loaded as they were; ask the sending unit (feed, file and row are
-- listed, never the value) to correct the entry in its system and deliver again.
{{ config(severity='warn', store_failures=true) }}

{{ current_delivery_cells('formula_cells') }}
