"""Turn one delivered row into normalised raw values, or a rejection reason."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from kcbx import identity
from kcbx.feeds import Column, Feed
from kcbx.normalise import clean_id, clean_text, parse_date, parse_grade, parse_level


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
}


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
        text = clean_id(value)
        if text is None:
            return None, None
        check = identity.validate(text, today)
        return (check.number, check.reason)
    text = clean_text(value)
    if text is None:
        return None, None
    if column.type == "code" and text not in column.codes:
        return None, "bad_code"
    if column.type == "digits" and not (text.isascii() and text.isdigit() and len(text) == column.length):
        return None, "bad_digits"
    return text, None


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
