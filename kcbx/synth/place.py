"""Where a synthetic county is: its 区划代码 and name, the region above it, and the codes of
its schools - so that the counties of a region (SPEC §7) can each be synthesised, distinct.

A county's identity numbers start with its code's first six digits, its townships are
`<code6><100+t>000` with villages under them, and its 学校标识码 are the school prefix and a
three-digit sequence. The default Place is the development county every test and demo
uses (kcbx.synth.generator.DEFAULT_PLACE); Place.of_county gives any other county codes no
other county's can meet: school codes `2<code6><seq>` (seq 001-034 for its own schools)
and, for the school outside the county that transfers go to, `2<code6>999`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from kcbx.region.codes import CodeError, check_county_code, check_region_code

_CODE = re.compile(r"^\d{12}$")

# Where migrant children (随迁子女) come from: their 户籍 is there, not in the county
# (郑州市中原区), so their identity numbers start with it.
MIGRANT_ORIGIN6 = "410102"
# The sequence of the school outside the county in Place.of_county's scheme: a county's own
# schools number 001-034 (two per township, at most 16 townships, and two more).
OUTSIDE_SEQUENCE = 999


# A county or region code that cannot be used (kcbx/region/codes.py, region.yml's rule).
PlaceError = CodeError


@dataclass(frozen=True)
class Place:
    code: str  # the county's 12-digit 区划代码, e.g. 411082000000
    name: str  # e.g. 长葛市
    parent: str  # the 12-digit code of the region above it (地级市 or 省), e.g. 411000000000
    school_prefix: str  # a school's 学校标识码 is this and a 3-digit sequence (10 digits)
    outside_school: str  # a school of no county of the region: transfers out, 学籍 elsewhere
    migrant_origin6: str = MIGRANT_ORIGIN6  # the 6-digit 户籍 code of the migrant children

    @property
    def code6(self) -> str:
        """The county's first six digits: the prefix of its identity numbers and townships."""
        return self.code[:6]

    def school(self, sequence: int) -> str:
        """The 学校标识码 of the county's `sequence`-th school (from 1)."""
        return f"{self.school_prefix}{sequence:03d}"

    @classmethod
    def of_county(cls, code: str, name: str, parent: str | None = None) -> Place:
        """A county other than the default one: schools `2<code6>001`, `2<code6>002`, ... and
        the outside school `2<code6>999`, unique across the counties of a region (their code6
        differ). parent: the region's code; by default the county's 地级市 (`<code4>00000000`)."""
        code = check_county_code(code)
        name = (name or "").strip()
        if not name:
            raise PlaceError("县名不能为空 / the county needs a name, e.g. --county-name 禹州市")
        parent = check_region_code(parent or code[:4] + "00000000", code)
        prefix = "2" + code[:6]
        return cls(code, name, parent, prefix, f"{prefix}{OUTSIDE_SEQUENCE:03d}")


def county_seed(seed: int, code: str) -> int:
    """The seed of one county of a region synthesised with `seed`: distinct for every county
    (its first six digits appended), the same each time."""
    return seed * 1_000_000 + int(code[:6])
