-- Checks that no current delivery held free text with control characters (C0 controls
-- other than tab, line feed and carriage return, and DEL; a NUL byte included).
-- Why it matters: they are invisible in the department's system but no output can hold
-- them - openpyxl refuses to write such a cell to a ledger, PostgreSQL refuses NUL - and
-- they usually mean a broken export or pasted binary. The loader removed them before
-- storing the row (audit.control_char_cells says where, never the value), so what was
-- loaded may differ from what the department holds: a name that compares unequal, an
-- identity number, code or date that was rejected as invalid.
-- How to fix: the rows loaded without the characters; ask the sending unit (feed, file
-- and row are listed, never the value) to correct the entry in its system and deliver
-- again.
{{ config(severity='warn', store_failures=true) }}

{{ current_delivery_cells('control_char_cells') }}
