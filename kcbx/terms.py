"""Terms, school years and the compulsory cohort (SPEC §3)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta

TERM_PATTERN = re.compile(r"^(\d{4})-(\d{4})-([12])$")


@dataclass(frozen=True)
class Term:
    term_id: str
    year: int  # the school year starts in September of this year
    number: int

    @classmethod
    def parse(cls, term_id: str) -> Term:
        m = TERM_PATTERN.match(term_id)
        if not m or int(m.group(2)) != int(m.group(1)) + 1:
            raise ValueError(f"term must look like 2025-2026-1, got {term_id!r}")
        return cls(term_id, int(m.group(1)), int(m.group(3)))

    @property
    def census_date(self) -> date:
        return date(self.year, 9, 30) if self.number == 1 else date(self.year + 1, 3, 31)

    @property
    def cohort(self) -> tuple[date, date]:
        """Born in this range = compulsory-education age in this school year."""
        return date(self.year - 15, 9, 1), date(self.year - 6, 8, 31)

    def in_cohort(self, born: date) -> bool:
        first, last = self.cohort
        return first <= born <= last

    def grade_for(self, born: date) -> int:
        """The grade a child born on `born` is in this year when on schedule (may be <1 or >9)."""
        school_year_of_birth = born.year if born.month >= 9 else born.year - 1
        return self.year - school_year_of_birth - 6

    @classmethod
    def containing(cls, day: date) -> Term:
        """The term whose school year and half contain `day` (SPEC §2): the autumn term
        (N=1) from September to January, the spring term (N=2) from February to August,
        so a scheduled run in the summer or winter holidays loads the term just ended."""
        if day.month >= 9:
            return cls.parse(f"{day.year}-{day.year + 1}-1")
        if day.month == 1:
            return cls.parse(f"{day.year - 1}-{day.year}-1")
        return cls.parse(f"{day.year - 1}-{day.year}-2")

    def next(self) -> Term:
        if self.number == 1:
            return Term(f"{self.year}-{self.year + 1}-2", self.year, 2)
        return Term(f"{self.year + 1}-{self.year + 2}-1", self.year + 1, 1)

    def calendar(self) -> list[tuple[date, bool]]:
        """Every date of the term with its school-day flag: weekdays outside public holidays."""
        if self.number == 1:
            start, end = date(self.year, 9, 1), date(self.year + 1, 1, 16)
            holidays = {date(self.year, 10, 1) + timedelta(days=i) for i in range(8)}
        else:
            start, end = date(self.year + 1, 2, 23), date(self.year + 1, 7, 3)
            holidays = {date(self.year + 1, 5, 1) + timedelta(days=i) for i in range(5)}
        days = []
        day = start
        while day <= end:
            days.append((day, day.weekday() < 5 and day not in holidays))
            day += timedelta(days=1)
        return days


def age_on(born: date, on: date) -> int:
    return on.year - born.year - ((on.month, on.day) < (born.month, born.day))
