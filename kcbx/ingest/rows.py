"""Turn one delivered row into normalised raw values, or a rejection reason."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from kcbx import identity
from kcbx.feeds import Column, Feed
from kcbx.ingest.normalise import clean_id, clean_text, parse_date, parse_grade, parse_level


@dataclass
class RowResult:
    values: list[str | None]
    reason: str | None = None  # reason code, see REASON_LABELS
    detail: str | None = None  # which column, in the clerk's words
    id_conflict: str | None = None


REASON_LABELS = {
    **identity.REASONS,
    "missing_value": "必填项为空 / a required value is empty",
    "bad_date": "日期无法识别 / date not recognised",
    "bad_code": "取值不在代码表中 / value is not one of the allowed codes",
    "bad_digits": "代码位数或字符不对 / code has the wrong length or characters",
    "bad_grade": "年级无法识别 / grade not recognised",
    "file_missing_column": "缺少必填列，整个文件被拒收 / file rejected: required column missing",
    "not_a_data_row": "合计、备注或填表人等说明行，不是数据行 / a total, note or signature row, not a data row",
    "row_too_large": (
        "行过长（超过 1 MB、单个单元格超过 128 KB 或超过 1000 列），内容未读取 / row too large (over 1 MiB, 128 KiB "
        "in one cell or 1,000 columns): its content was not read"
    ),
}

# What a clerk types below (or between) the data: totals, notes and signatures.
NOTE_ROW = re.compile(
    r"^(合\s*计|总\s*计|小\s*计|共\s*计|备\s*注|注\s*[:：]|说\s*明|填表|填报|制表|审核|负责人|联系人|单位负责人)"
)
# Excel's text form of a number it holds in floating point: 4.11085201001012E+17.
SCIENTIFIC = re.compile(r"^[0-9](\.[0-9]+)?E\+?[0-9]+$", re.IGNORECASE)
EXACT_DIGITS = 15  # a spreadsheet number keeps 15 significant digits


def is_blank(cells: Iterable[object]) -> bool:
    return all(c is None or c == "" for c in cells)


def not_a_data_row(cells: Iterable[object]) -> bool:
    """A row whose first non-empty cell starts like 合计 / 备注： / 填表人： (a summary or note)."""
    first = next((t for t in (clean_text(c) for c in cells) if t), None)
    return first is not None and NOTE_ROW.match(first) is not None


def rejection(row: RowResult, cells: Iterable[object]) -> tuple[str, str | None]:
    """(reason, column) a rejected row is quarantined with: a summary or note row is named
    as such rather than by the first required value it lacks."""
    if not_a_data_row(cells):
        return "not_a_data_row", None
    return row.reason or "missing_value", row.detail


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def number_digits(value: int | float) -> str | None:
    """The digits of a whole spreadsheet number (None for a fraction)."""
    if isinstance(value, float) and not value.is_integer():
        return None
    return str(abs(int(value)))


def id_lost_to_excel(value: object) -> bool:
    """An 18-digit number that went through a spreadsheet number: a numeric cell of more
    than 15 digits, or Excel's scientific text form. Its last digits are gone."""
    if _is_number(value):
        digits = number_digits(value)
        return digits is not None and len(digits) > EXACT_DIGITS
    text = clean_text(value)
    return text is not None and SCIENTIFIC.match(text) is not None


def _digits_from_number(column: Column, value: int | float) -> tuple[str | None, str | None]:
    """A code (学校标识码, 区划代码) typed into a number cell: exact up to 15 digits, with the
    leading zeros Excel dropped restored to the column's declared length."""
    digits = number_digits(value)
    if digits is None or len(digits) > EXACT_DIGITS:
        return None, "bad_digits"
    if column.length and len(digits) < column.length:
        digits = digits.zfill(column.length)
    return _digits_checked(column, digits)


def _digits_checked(column: Column, text: str) -> tuple[str | None, str | None]:
    if text.isascii() and text.isdigit() and len(text) == column.length:
        return text, None
    return None, "bad_digits"


def normalise_value(column: Column, value: object, today: date) -> tuple[str | None, str | None]:
    """Return (normalised text, reason code)."""
    try:
        if column.type == "date":
            parsed = parse_date(value)
            return (parsed.isoformat() if parsed else None), None
        if column.type == "grade":
            grade = parse_grade(value)
            return (str(grade) if grade else None), None
        if column.type == "level":
            level = parse_level(value)
            return (str(level) if level else None), None
    except ValueError:
        return None, {"date": "bad_date", "grade": "bad_grade", "level": "bad_code"}[column.type]
    if column.type == "id":
        return _identity_number(value, today)
    if column.type == "digits" and _is_number(value):
        return _digits_from_number(column, value)
    text = clean_text(value)
    if text is None:
        return None, None
    if column.type == "code" and text not in column.codes:
        return None, "bad_code"
    if column.type == "digits":
        return _digits_checked(column, text)
    return text, None


def _identity_number(value: object, today: date) -> tuple[str | None, str | None]:
    if id_lost_to_excel(value):
        return None, "id_excel_number"
    text = clean_id(value)
    if text is None:
        return None, None
    check = identity.validate(text, today)
    if check.reason == "id_check_digit" and text.endswith("000"):
        # The text a CSV export writes for such a number: its last three digits zeroed.
        return None, "id_excel_number"
    return (check.number, check.reason)


def normalise_row(feed: Feed, cells: dict[str, object], today: date) -> RowResult:
    """`cells` maps canonical column names (Column.col) to the delivered values."""
    values: list[str | None] = []
    reason = detail = None
    for column in feed.columns:
        value, problem = normalise_value(column, cells.get(column.col), today)
        if problem is None and value is None and column.required:
            problem = "missing_value"
        if problem and reason is None:
            reason, detail = problem, column.name
        values.append(value)
    result = RowResult(values, reason, detail)
    if reason is None and feed.identity:
        result.id_conflict = _identity_conflict(feed, dict(zip(feed.raw_columns, values, strict=True)))
    return result


def _identity_conflict(feed: Feed, row: dict[str, str | None]) -> str | None:
    """The number wins; a disagreeing 出生日期/性别 is recorded, not rejected."""
    number = row.get(feed.identity or "")
    if not number:
        return None
    conflicts = []
    if feed.birth and row.get(feed.birth) and row[feed.birth] != identity.birth_date(number).isoformat():
        conflicts.append("birth_date")
    if feed.sex and row.get(feed.sex) and row[feed.sex] != identity.sex(number):
        conflicts.append("sex")
    return ",".join(conflicts) or None
