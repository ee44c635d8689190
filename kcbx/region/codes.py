"""区划代码 of a region and its counties: one rule for region.yml and for the synthetic
counties (kcbx/synth/place.py)."""

from __future__ import annotations

import re

_CODE = re.compile(r"^\d{12}$")


class CodeError(ValueError):
    """A county or region code that cannot be used; the message says what is wrong."""


def check_county_code(code: str) -> str:
    """A county's 12-digit 区划代码: six digits of the county (not ending in 00, which is a
    地级市 or 省) and six zeros, e.g. 411081000000."""
    code = str(code).strip()
    if not _CODE.match(code):
        raise CodeError(f"县区划代码应为12位数字 / a county code has 12 digits, e.g. 411081000000; got {code!r}")
    if code[6:] != "000000" or code[4:6] == "00":
        raise CodeError(
            f"不是县级区划代码 / {code} is not a county's code: six digits of the county (not ending in 00) "
            "and six zeros, e.g. 411081000000"
        )
    return code


def check_region_code(code: str, county: str) -> str:
    """The 12-digit code of the region above the county - its 地级市 (4 digits and zeros)
    or 省 (2 digits and zeros) - which the county's code must begin with."""
    code = str(code).strip()
    if not _CODE.match(code):
        raise CodeError(f"区域区划代码应为12位数字 / a region code has 12 digits, e.g. 411000000000; got {code!r}")
    if code[2:] == "0" * 10:
        prefix = code[:2]
    elif code[4:] == "0" * 8 and code[2:4] != "00":
        prefix = code[:4]
    else:
        raise CodeError(f"不是地级市或省的区划代码 / {code} is not a prefecture's or a province's code")
    if not county.startswith(prefix):
        raise CodeError(f"{county} 不在区域 {code} 内 / county {county} is not in region {code}")
    return code
