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
from decimal import Decimal
from math import isinf, isnan

from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter
from openpyxl.utils.datetime import to_excel
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


# --- rows of data cells, written without an openpyxl cell per value ----------------------
#
# A county's 台账 hold close to a million cells; openpyxl (without lxml) spends ~10 µs making
# and serialising each. data_rows writes the <row> elements openpyxl would write for
# `sheet.append([i, *(cell(sheet, v) for v in row)])`, byte for byte: the same cell() rules
# (writable, text never a formula, quote prefix, dates as dates), the same types and style
# ids, only faster. tests/unit/test_outputs_speed.py holds it to openpyxl's own output.

QUOTED = "quoted"  # styles key of a quote-prefixed text cell; other keys are a value's type
MAX_TEXT = 32767  # openpyxl cuts longer text (Cell.check_string)


def _text_cell(ref: str, text: str, style: str) -> str:
    text = text[:MAX_TEXT]
    if not text:
        return f'<c r="{ref}"{style} t="inlineStr" />'
    stripped = text.strip()
    space = ' xml:space="preserve"' if stripped and stripped != text else ""
    if "&" in text:
        text = text.replace("&", "&amp;")
    if "<" in text:
        text = text.replace("<", "&lt;")
    if ">" in text:
        text = text.replace(">", "&gt;")
    return f'<c r="{ref}"{style} t="inlineStr"><is><t{space}>{text}</t></is></c>'


def _number(value) -> str:
    # openpyxl's safe_string; % (not format()) turns a Decimal into a float first, as it does.
    return "<v />" if isnan(value) or isinf(value) else "<v>%.16g</v>" % value  # noqa: UP031


def _cell_xml(sheet, ref: str, value, styles: dict) -> str:
    kind = type(value)
    if kind is str or isinstance(value, str | bytes | bytearray):
        if not isinstance(value, str):
            value = bytes(value).decode("utf-8", "replace")
        value = str(writable(value))
        style = ""
        if value.startswith(FORMULA_STARTS):
            if QUOTED not in styles:
                styles[QUOTED] = cell(sheet, value).style_id
            style = f' s="{styles[QUOTED]}"'
        return _text_cell(ref, value, style)
    if kind is int or kind is float or kind is Decimal:
        return f'<c r="{ref}" t="n">{_number(value)}</c>'
    if kind is bool:
        return f'<c r="{ref}" t="b">{_number(value)}</c>'
    if kind not in styles:
        probe = cell(sheet, value)  # a TypeError, naming no value, for what a cell cannot hold
        styles[kind] = (probe.data_type, probe.style_id if probe.has_style else None)
    data_type, style_id = styles[kind]
    style = "" if style_id is None else f' s="{style_id}"'
    if data_type in ("n", "b"):
        return f'<c r="{ref}"{style} t="{data_type}">{_number(value)}</c>'
    if data_type != "d":
        raise TypeError(f"a workbook cell cannot hold a {kind.__name__}")
    if getattr(value, "tzinfo", None) is not None:
        raise TypeError("a workbook cell cannot hold a date or time with a time zone")
    serial = to_excel(value, sheet.parent.epoch)
    if serial is None:
        return f'<c r="{ref}"{style} t="n" />'
    return f'<c r="{ref}"{style} t="n">{_number(serial)}</c>'


def data_rows(sheet, rows, first_row: int, numbered: bool, styles: dict) -> str:
    """The <row> elements, from row first_row on, that openpyxl writes when each row is
    appended as `[i, *(cell(sheet, v) for v in row)]` (i, from 1, only if numbered).
    styles is the workbook's: what a styled cell is (QUOTED, or a date's type) and its
    style id, added to the workbook where openpyxl would add it (the first such cell)."""
    parts = []
    letters: list[str] = []
    for number, row in enumerate(rows):
        r = first_row + number
        parts.append(f'<row r="{r}">')
        if numbered:
            parts.append(f'<c r="A{r}" t="n">{_number(number + 1)}</c>')
        for column, value in enumerate(row, 1 + numbered):
            if value is None:
                continue
            while len(letters) < column:
                letters.append(get_column_letter(len(letters) + 1))
            parts.append(_cell_xml(sheet, f"{letters[column - 1]}{r}", value, styles))
        parts.append("</row>")
    return "".join(parts)
