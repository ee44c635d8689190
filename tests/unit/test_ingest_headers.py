"""kcbx.ingest.headers beyond tests/unit/test_headers.py: how one row's cells map onto a
feed's columns (aliases, padded or marked names, undeclared and repeated headers), which
row is chosen when none is complete, the clerk's message for a file missing a required
column, and the title line."""

from __future__ import annotations

import pytest

from kcbx.feeds import feed
from kcbx.ingest.headers import (
    HEADER_SEARCH_ROWS,
    TITLE_MAX_CHARS,
    find_header,
    header_text,
    match_header,
    no_header_message,
    title_text,
)

pytestmark = pytest.mark.unit

HUJI = feed("huji")
KAOQIN = feed("kaoqin")


@pytest.mark.parametrize(
    ("cell", "text"),
    [
        (None, ""),
        ("  姓名 ", "姓名"),
        ("\u3000姓名\u3000", "姓名"),  # the ideographic space a Chinese keyboard types
        ("\ufeff身份证号", "身份证号"),  # a BOM the reader did not remove
        (" \ufeff 身份证号", "身份证号"),
        ("姓\x00名\x01", "姓名"),  # control characters never name a column
        ("一\n二", "一\n二"),  # a header over two lines keeps its line break
        (2025, "2025"),
        (12.5, "12.5"),
    ],
)
def test_header_text(cell, text):
    assert header_text(cell) == text


def test_aliases_padded_names_and_raw_column_names_all_match():
    cells = [" 公民身份号码 ", "\ufeff姓名", "性别", "出生年月日", "户籍区划代码", "person_status"]
    match = match_header(HUJI, cells)
    assert match.known == {
        0: "id_number",
        1: "name",
        2: "sex",
        3: "birth_date",
        4: "hukou_region_code",
        5: "person_status",
    }
    assert match.extra == {} and match.missing == []


def test_undeclared_and_repeated_headers_are_extra_the_first_of_a_column_wins():
    cells = ["学籍号", "日期", "全国学籍号", "", None, "备注", "学校代码", " 出勤状态"]
    match = match_header(KAOQIN, cells)
    assert match.known == {0: "student_no", 1: "day", 6: "school_code", 7: "attendance_status"}
    # The second name of 全国学籍号 is kept under its text (raw.extra); empty headers are nothing.
    assert match.extra == {2: "全国学籍号", 5: "备注"}
    assert match.missing == []


def test_missing_lists_required_columns_in_the_feeds_order_never_optional_ones():
    match = match_header(KAOQIN, ["出勤状态", "班级"])
    assert match.missing == ["学校标识码", "日期", "全国学籍号"]  # not 班级 (optional), in feeds.yml's order
    assert match.known == {0: "attendance_status", 1: "class_name"}


def test_a_header_of_optional_columns_only_is_not_complete():
    search = find_header(KAOQIN, [["班级"]])
    assert search is not None and not search.found
    assert search.match.missing == ["学校标识码", "日期", "全国学籍号", "出勤状态"]


def test_of_rows_missing_as_many_columns_the_first_is_the_closest():
    rows = [[], ["学校代码", "日期", "学籍号"], ["考勤日期", "学校标识码", "学籍号"], ["学校代码"]]
    search = find_header(KAOQIN, rows)
    assert (search.found, search.index, search.match.missing) == (False, 1, ["出勤状态"])


def test_a_complete_row_below_a_closer_partial_one_is_the_header():
    rows = [["学校代码", "日期", "学籍号", "班级"], ["学校代码", "日期", "学籍号", "班级", "考勤状态"]]
    search = find_header(KAOQIN, rows)
    assert search.found and search.index == 1


def test_the_last_row_searched_can_be_the_header():
    rows = [[f"说明{i}"] for i in range(HEADER_SEARCH_ROWS - 1)] + [["学校代码", "日期", "学籍号", "出勤状态"]]
    search = find_header(KAOQIN, rows)
    assert search.found and search.index == HEADER_SEARCH_ROWS - 1


def test_the_message_for_a_missing_column_names_it_the_required_ones_and_the_closest_row():
    message = no_header_message(HUJI, 3, ["户籍地区划代码", "人员状态"])
    required = "身份证号、姓名、性别、出生日期、户籍地区划代码、人员状态"
    assert message.startswith("缺少必填列 户籍地区划代码、人员状态：")
    assert f"前 {HEADER_SEARCH_ROWS} 行中没有一行包含全部必填列（{required}）" in message
    assert "最接近的是第 3 行" in message and "请按模板表头重新导出" in message
    assert " / missing required column(s) 户籍地区划代码、人员状态: " in message
    assert message.endswith(
        f"the first {HEADER_SEARCH_ROWS} rows holds every required column ({required}); the closest is row 3"
    )
    assert "监护人" not in message  # optional columns are not demanded


@pytest.mark.parametrize(
    ("preamble", "title"),
    [
        ([["长川市  城关镇\n花名册"]], "长川市 城关镇 花名册"),  # runs of blanks and line breaks become one space
        ([["\u3000全角标题\u3000", None, 2025]], "全角标题 / 2025"),
        ([["标题\x00一"]], "标题一"),
        ([["联系人: 李四 电话 0371-1234567"]], "联系人：＊ 电话 0371-＊"),
        ([["审核人：赵六，制表人：钱七"]], "审核人：＊,制表人：＊"),  # full-width punctuation folded
        ([["编号 123456 与 1234567"]], "编号 123456 与 ＊"),  # up to six digits are not a phone number
    ],
)
def test_title_text_forms(preamble, title):
    assert title_text(preamble) == title


def test_a_long_title_is_cut_to_its_limit():
    text = title_text([["长" * (TITLE_MAX_CHARS + 50)]])
    assert text == "长" * TITLE_MAX_CHARS
