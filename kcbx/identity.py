"""Resident identity numbers (公民身份号码, GB 11643-1999).

Pure functions only: validation with a reason code per failure, the 15 -> 18 digit
upgrade, and the birth date and sex the number encodes. Nothing here logs a number.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from dataclasses import dataclass
from datetime import date

WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
CHECK_CHARS = "10X98765432"

# Reason codes are stable identifiers stored in audit.rejected_rows; the labels are
# what a county clerk reads.
REASONS = {
    "id_missing": "身份证号为空 / identity number is empty",
    "id_length": "身份证号位数不对（应为18位或15位）/ identity number must have 18 or 15 characters",
    "id_characters": "身份证号含非法字符 / identity number has characters other than digits and a final X",
    "id_check_digit": "身份证号校验位错误 / identity number check character is wrong",
    "id_impossible_date": "身份证号中的出生日期不存在 / identity number encodes a date that does not exist",
    "id_future_date": "身份证号中的出生日期晚于今天 / identity number encodes a birth date in the future",
    "id_excel_number": (
        "身份证号被 Excel 存成了数字，末位已丢失：请将该列设为文本格式后重新导出 / the identity number was stored "
        "as an Excel number, which keeps 15 digits, and its last digits are lost: format the column as text and "
        "export again"
    ),
}


@dataclass(frozen=True)
class IdCheck:
    number: str | None  # the 18-digit form when valid
    reason: str | None  # a key of REASONS when invalid

    @property
    def valid(self) -> bool:
        return self.reason is None


def check_character(first17: str) -> str:
    total = sum(int(d) * w for d, w in zip(first17, WEIGHTS, strict=True))
    return CHECK_CHARS[total % 11]


def upgrade_15(number15: str) -> str:
    """Legacy 15-digit numbers encode YYMMDD of a 19YY birth year and carry no check character."""
    first17 = number15[:6] + "19" + number15[6:]
    return first17 + check_character(first17)


def _encoded_date(number18: str) -> date | None:
    try:
        return date(int(number18[6:10]), int(number18[10:12]), int(number18[12:14]))
    except ValueError:
        return None


def validate(raw: str | None, today: date | None = None) -> IdCheck:
    """Validate a number already normalised for width and case (see kcbx.ingest.normalise)."""
    if raw is None or raw == "":
        return IdCheck(None, "id_missing")
    if len(raw) not in (15, 18):
        return IdCheck(None, "id_length")
    if len(raw) == 15:
        if not raw.isdigit() or not raw.isascii():
            return IdCheck(None, "id_characters")
        number = upgrade_15(raw)
    else:
        body, last = raw[:17], raw[17]
        if not (body.isascii() and body.isdigit()) or not (last.isdigit() or last == "X"):
            return IdCheck(None, "id_characters")
        number = raw
    birth = _encoded_date(number)
    if birth is None or birth.year < 1900:
        return IdCheck(None, "id_impossible_date")
    if birth > (today or date.today()):
        return IdCheck(None, "id_future_date")
    if len(raw) == 18 and number[17] != check_character(number[:17]):
        return IdCheck(None, "id_check_digit")
    return IdCheck(number, None)


def birth_date(number18: str) -> date:
    d = _encoded_date(number18)
    if d is None:
        raise ValueError("not a valid identity number")
    return d


def sex(number18: str) -> str:
    """'男' for an odd sequence digit, '女' for even (GB 11643 §4)."""
    return "男" if int(number18[16]) % 2 == 1 else "女"


def make_number(region6: str, born: date, sequence: int) -> str:
    """Build a valid 18-digit number; used by the synthetic data generator."""
    first17 = f"{region6}{born:%Y%m%d}{sequence:03d}"
    return first17 + check_character(first17)


def mask(number: str) -> str:
    """Masked form for ledgers and messages: the last four characters only (GB/T 35273
    de-identification). The region and birth-date digits are never shown: with the
    sheet's own 户籍地 and 出生日期 columns they would restore the number. Sheets that show
    this form show the birth year, not the date (see kcbx.outputs.ledgers)."""
    if len(number) < 8:
        return "*" * len(number)
    return "*" * (len(number) - 4) + number[-4:]


_IDENTITY_LIKE = re.compile(r"(?<![0-9A-Za-z])[GLJ]?\d{14}[\dXx]{1,4}(?![0-9A-Za-z])")


def scrub(text: str) -> str:
    """The text with anything shaped like an identity or 学籍 number blanked (for the
    command line's own messages; an exception's text goes through
    kcbx.orchestration.failures.safe_error)."""
    return _IDENTITY_LIKE.sub("[已隐去 redacted]", text)


def child_key(key: str, material: str) -> str:
    """child_key = HMAC-SHA256(KCBX_PII_KEY, number or 'student:<全国学籍号>')."""
    return hmac.new(key.encode(), material.encode(), hashlib.sha256).hexdigest()
