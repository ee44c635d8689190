"""Workbook cells KCBX writes: text from delivered data stays text, never a formula.

openpyxl stores any string that starts with '=' as a live formula; a name such as
`=HYPERLINK(...)` or a 责任人 `=cmd|...` (DDE) would then run in whoever opens the
workbook (OWASP CSV injection). Every workbook KCBX writes (ledgers, synthetic
deliveries) makes its cells here.
"""

from __future__ import annotations

from datetime import date

from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font

DATE_FORMAT = "yyyy-mm-dd"
# Characters a spreadsheet reads as the start of a formula or a DDE command (OWASP).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def cell(sheet, value, font: Font | None = None) -> WriteOnlyCell:
    """A write-only cell whose text is always text (quote-prefixed when it looks like a
    formula, so it stays text when a clerk edits it); dates get a date format."""
    out = WriteOnlyCell(sheet, value=value)
    if isinstance(value, str):
        out.data_type = "s"
        if value.startswith(FORMULA_STARTS):
            out.quotePrefix = True
    elif isinstance(value, date):
        out.number_format = DATE_FORMAT
    if font is not None:
        out.font = font
    return out
