"""Header detection, title text and the cell rules for spreadsheets as offices save them."""

from datetime import date

import pytest

from kcbx.feeds import feed
from kcbx.ingest.headers import HEADER_SEARCH_ROWS, find_header, title_text
from kcbx.ingest.rows import id_lost_to_excel, normalise_value, not_a_data_row

pytestmark = pytest.mark.unit

HUJI = feed("huji")
HEADER = ["身份证号", "姓名", "性别", "出生日期", "户籍地区划代码", "人员状态"]


def test_the_first_row_with_every_required_header_is_the_header():
    rows = [["长川市花名册"], ["填报单位：城关镇"], [], [" 公民身份号码 ", *HEADER[1:]], HEADER]
    search = find_header(HUJI, rows)
    assert search.found and search.index == 3 and not search.match.missing
    assert search.match.known[0] == "id_number"  # an alias with stray spaces


def test_a_partial_header_is_the_closest_row_not_a_header():
    rows = [["花名册"], ["身份证号", "姓名"], ["身份证号", "姓名", "性别", "出生日期"], ["身份证号"]]
    search = find_header(HUJI, rows)
    assert not search.found and search.index == 2
    assert search.match.missing == ["户籍地区划代码", "人员状态"]


def test_only_the_first_rows_are_searched():
    rows = [[f"说明{i}"] for i in range(HEADER_SEARCH_ROWS)] + [HEADER]
    search = find_header(HUJI, rows)
    assert not search.found and search.index == 0


def test_blank_rows_are_never_the_header():
    assert find_header(HUJI, [[], ["", None], []]) is None


def test_title_text_names_the_unit_not_its_clerk():
    text = title_text(
        [["长川市城关镇0-18周岁人口花名册", ""], ["填报单位：城关镇派出所　填表人：王秀英　电话：13812345678"]]
    )
    assert text.startswith("长川市城关镇0-18周岁人口花名册 / 填报单位")
    assert "城关镇派出所" in text and "王秀英" not in text and "13812345678" not in text
    assert title_text([[], ["", None]]) is None


@pytest.mark.parametrize(
    ("value", "lost"),
    [
        (4.11082201503071e17, True),
        (411082201503071234, True),  # no spreadsheet number holds 18 digits exactly
        ("4.11082201503071E+17", True),
        (" 4.11082201503071e+17 ", True),
        (411082850307123, False),  # 15 digits are exact
        ("411082201503071234", False),
        (True, False),
        (None, False),
    ],
)
def test_which_identity_numbers_went_through_a_spreadsheet_number(value, lost):
    assert id_lost_to_excel(value) is lost


def test_codes_from_number_cells():
    school = next(c for c in feed("schools").columns if c.col == "school_code")
    assert normalise_value(school, 141082001, date(2026, 1, 1)) == ("0141082001", None)
    assert normalise_value(school, 2141082001.0, date(2026, 1, 1)) == ("2141082001", None)
    assert normalise_value(school, 2141082001.5, date(2026, 1, 1)) == (None, "bad_digits")
    assert normalise_value(school, "141082001", date(2026, 1, 1)) == (None, "bad_digits")  # text is as typed


@pytest.mark.parametrize(
    ("cells", "note"),
    [
        (["合计", "319人"], True),
        (["", "总 计：12"], True),
        (["备注：本表由乡镇汇总"], True),
        (["填表人：王丽", "审核人："], True),
        (["注：以上为全部人员"], True),
        (["411082201503071234", "王伟"], False),
        (["王合计"], False),
        ([], False),
    ],
)
def test_summary_and_note_rows(cells, note):
    assert not_a_data_row(cells) is note
