from datetime import date, datetime

import pytest

from kcbx.ingest.normalise import clean_id, clean_text, parse_date, parse_grade, parse_level
from kcbx.terms import Term

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(
    "value",
    [
        "2015-03-07",
        "2015/3/7",
        "20150307",
        "2015年3月7日",
        " 2015-03-07 ",
        "２０１５－０３－０７",
        datetime(2015, 3, 7, 0, 0),
        date(2015, 3, 7),
        42070,
        "2015-03-07 00:00:00",
    ],
)
def test_every_date_form_parses(value):
    assert parse_date(value) == date(2015, 3, 7)


@pytest.mark.parametrize("value", ["2015-13-40", "2015年13月40日", "March 7", "07/03/2015"])
def test_bad_dates_raise(value):
    with pytest.raises(ValueError):
        parse_date(value)


def test_full_width_and_spaces_are_normalised():
    assert clean_text("　ＡＢＣ１２３ ") == "ABC123"
    assert clean_id(" ４１１０８２２０１５０３０７１２３ｘ ") == "411082201503071 23X".replace(" ", "")
    assert clean_text("   ") is None


@pytest.mark.parametrize(
    ("value", "grade"), [("3", 3), ("三年级", 3), ("初一", 7), ("初三", 9), ("九年级", 9), (5.0, 5)]
)
def test_grades(value, grade):
    assert parse_grade(value) == grade


def test_disability_levels():
    assert parse_level("二级") == 2 and parse_level("4") == 4
    with pytest.raises(ValueError):
        parse_level("五级")


def test_term_cohort_and_census():
    term = Term.parse("2025-2026-1")
    assert term.cohort == (date(2010, 9, 1), date(2019, 8, 31))
    assert term.census_date == date(2025, 9, 30)
    assert Term.parse("2025-2026-2").census_date == date(2026, 3, 31)
    assert term.grade_for(date(2019, 8, 31)) == 1 and term.grade_for(date(2010, 9, 1)) == 9
    with pytest.raises(ValueError):
        Term.parse("2025-2027-1")
