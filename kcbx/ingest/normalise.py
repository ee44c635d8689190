"""Cell-level normalisation of what departments type: widths, spaces, dates, grades."""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta

# Full-width ASCII block (！ .. ～) maps onto ASCII by a fixed offset; the ideographic
# space becomes a plain space so that trimming removes it.
_FULLWIDTH = {c: c - 0xFEE0 for c in range(0xFF01, 0xFF5F)}
_FULLWIDTH[0x3000] = 0x20

_DATE_PATTERNS = (
    re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})$"),
    re.compile(r"^(\d{4})/(\d{1,2})/(\d{1,2})$"),
    re.compile(r"^(\d{4})(\d{2})(\d{2})$"),
    re.compile(r"^(\d{4})年(\d{1,2})月(\d{1,2})日$"),
    re.compile(r"^(\d{4})\.(\d{1,2})\.(\d{1,2})$"),
)
_EXCEL_EPOCH = date(1899, 12, 30)

# Control characters a delivered cell may hold and no output can: the C0 controls that
# openpyxl refuses to write (IllegalCharacterError, naming the cell's value in its
# message) and PostgreSQL refuses to store (NUL), plus DEL. Tab, line feed and carriage
# return are kept: a workbook holds them, and a name or address typed over two lines in
# one cell is plausible (leading and trailing ones are trimmed like any blank). One
# pattern for Python and Arrow (RE2).
CONTROL_CHARS = r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]"
_CONTROL = re.compile(CONTROL_CHARS)


def has_controls(text: str) -> bool:
    # isprintable() is one fast pass and true for nearly every cell (every control
    # character is unprintable); only the rest are searched.
    return not text.isprintable() and _CONTROL.search(text) is not None


def strip_controls(text: str) -> str:
    """The text without the control characters of CONTROL_CHARS."""
    return text if text.isprintable() else _CONTROL.sub("", text)


def without_controls(value: object) -> object:
    """A cell value with control characters removed if it is text; anything else as is."""
    return strip_controls(value) if isinstance(value, str) else value


def clean_text(value: object) -> str | None:
    """Trim and fold full-width characters; empty cells become None."""
    if value is None:
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    text = str(value).translate(_FULLWIDTH).strip()
    return text or None


def clean_id(value: object) -> str | None:
    text = clean_text(value)
    return text.upper() if text else None


def parse_date(value: object) -> date | None:
    """Parse the date forms SPEC §2 allows; raise ValueError for anything else."""
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        # A bare number from a spreadsheet is an Excel serial date, unless it reads as YYYYMMDD.
        if 19000101 <= value <= 21001231:
            value = str(int(value))
        elif 1 <= value < 80000:
            return _EXCEL_EPOCH + timedelta(days=int(value))
    text = clean_text(value)
    if text is None:
        return None
    text = text.split(" ")[0] if re.match(r"^\d{4}-\d{2}-\d{2} \d", text) else text
    for pattern in _DATE_PATTERNS:
        m = pattern.match(text)
        if m:
            return date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
    raise ValueError(f"unrecognised date {text!r}")


_CN_DIGITS = {"一": 1, "二": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}


def parse_grade(value: object) -> int | None:
    """Grades 1-9 from '3', '三年级', '初一' (= 7) ... ; ValueError otherwise."""
    text = clean_text(value)
    if text is None:
        return None
    if text.isdigit() and 1 <= int(text) <= 9:
        return int(text)
    m = re.fullmatch(r"([一二三四五六七八九])年级", text)
    if m:
        return _CN_DIGITS[m.group(1)]
    m = re.fullmatch(r"初([一二三])", text)
    if m:
        return 6 + _CN_DIGITS[m.group(1)]
    raise ValueError(f"unrecognised grade {text!r}")


def parse_level(value: object) -> int | None:
    """Disability grade from '一级' .. '四级' or 1-4."""
    text = clean_text(value)
    if text is None:
        return None
    text = text.removesuffix("级")
    if text.isdigit() and 1 <= int(text) <= 4:
        return int(text)
    if text in ("一", "二", "三", "四"):
        return _CN_DIGITS[text]
    raise ValueError(f"unrecognised grade {text!r}")
