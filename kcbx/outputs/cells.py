"""Workbook cells KCBX writes: text from delivered data stays text, never a formula,
and never a reason for the workbook (or the run) to fail.

openpyxl stores any string that starts with '=' as a live formula; a name such as
`=HYPERLINK(...)` or a 责任人 `=cmd|...` (DDE) would then run in whoever opens the
workbook (OWASP CSV injection). Every workbook KCBX writes (ledgers, synthetic
deliveries) makes its cells here.

Characters a workbook cannot hold (C0 controls other than tab, line feed and carriage
return: openpyxl's illegal set; lone surrogates, U+FFFE and U+FFFF, which XML 1.0 does
not allow and Excel reports as a corrupt file) are replaced by U+FFFD (�). Decision:
replace, not refuse. The loader strips control characters and records the cells
(audit.control_char_cells), so one reaching the writer is data from an older load or a
bug; refusing would fail a whole township's ledger over one cell, and openpyxl's own
refusal (`IllegalCharacterError('张\\x01三 cannot be used in worksheets.')`) carries the
value into the task log, the failure e-mail and audit.pipeline_runs. A � in the cell
shows the clerk where the data was damaged. No exception raised here names a value.
"""

from __future__ import annotations

import re
from datetime import date

from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font
from openpyxl.utils.exceptions import IllegalCharacterError

DATE_FORMAT = "yyyy-mm-dd"
# Characters a spreadsheet reads as the start of a formula or a DDE command (OWASP).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
REPLACEMENT = "\ufffd"
# openpyxl's ILLEGAL_CHARACTERS_RE ([\x00-\x08\x0b\x0c\x0e-\x1f]) and what XML 1.0 forbids besides.
UNWRITABLE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def writable(text: str) -> str:
    """The text with every character a workbook cannot hold replaced by U+FFFD."""
    return UNWRITABLE.sub(REPLACEMENT, text)


def cell(sheet, value, font: Font | None = None) -> WriteOnlyCell:
    """A write-only cell whose text is always text (quote-prefixed when it looks like a
    formula, so it stays text when a clerk edits it); dates get a date format."""
    if isinstance(value, bytes | bytearray):  # openpyxl would read them as UTF-8 text
        value = bytes(value).decode("utf-8", "replace")
    if isinstance(value, str):
        value = writable(value)
    try:
        out = WriteOnlyCell(sheet, value=value)
    except (ValueError, IllegalCharacterError):
        # openpyxl's messages hold the value ("Cannot convert {...} to Excel").
        raise TypeError(f"a workbook cell cannot hold a {type(value).__name__}") from None
    if isinstance(value, str):
        out.data_type = "s"
        if value.startswith(FORMULA_STARTS):
            out.quotePrefix = True
    elif isinstance(value, date):
        out.number_format = DATE_FORMAT
    if font is not None:
        out.font = font
    return out
