"""The cell text rules of every workbook KCBX writes (kcbx.outputs.cells, .workbook),
value by value: text from data stays text and never a formula, numbers and dates keep
their types, a missing value leaves its cell out. tests/unit/test_outputs_speed.py holds
data_rows to openpyxl's own output byte for byte; test_no_leak_units.py and
test_security_units.py hold the replacement of unwritable characters and formulas read
back from a ledger."""

from __future__ import annotations

from datetime import date, datetime

import openpyxl
import pytest
from openpyxl.styles import Font

from kcbx.outputs.cells import DATE_FORMAT, FORMULA_STARTS, MAX_TEXT, QUOTED, REPLACEMENT, cell, data_rows
from kcbx.outputs.workbook import safe_sheet_title, write_workbook

pytestmark = pytest.mark.unit


@pytest.fixture
def sheet():
    return openpyxl.Workbook(write_only=True).create_sheet("台账")


def test_the_formula_starts_are_owasps():
    assert FORMULA_STARTS == ("=", "+", "-", "@", "\t", "\r")


@pytest.mark.parametrize("value", ["=1+1", "+86 138", "-3", "@SUM(A1)", "\t=1", "\r=1", '=HYPERLINK("x")', "=\x01"])
def test_text_that_starts_like_a_formula_is_quoted_text(sheet, value):
    out = cell(sheet, value)
    assert out.data_type == "s" and out.quotePrefix
    assert out.value == value.replace("\x01", REPLACEMENT)


@pytest.mark.parametrize("value", ["张三", " =1", "a=1", "#N/A", "", "411082201503071234", "0371"])
def test_other_text_is_plain_text(sheet, value):
    out = cell(sheet, value)
    assert out.data_type == "s" and not out.quotePrefix and out.value == value


@pytest.mark.parametrize(
    ("value", "data_type", "number_format"),
    [
        (7, "n", "General"),
        (1.5, "n", "General"),
        (True, "b", "General"),
        (date(2015, 3, 7), "d", DATE_FORMAT),
        (datetime(2015, 3, 7, 8, 30), "d", DATE_FORMAT),  # a time of day is shown as its date
    ],
)
def test_numbers_and_dates_keep_their_types(sheet, value, data_type, number_format):
    out = cell(sheet, value)
    assert (out.data_type, out.number_format, out.quotePrefix) == (data_type, number_format, False)


def test_bytes_are_text_and_a_font_is_applied(sheet):
    assert cell(sheet, b"=1").value == "=1" and cell(sheet, b"=1").quotePrefix
    assert cell(sheet, bytearray("张三", "utf-8")).value == "张三"
    bold = cell(sheet, "标题", Font(bold=True, size=13))
    assert bold.font.b and bold.font.sz == 13
    assert not cell(sheet, "标题").font.b


def test_data_rows_number_rows_leave_out_missing_values_and_escape_text(sheet):
    xml = data_rows(sheet, [["a&b<c>d", None, " x", ""], []], 3, True, {})
    assert xml == (
        '<row r="3"><c r="A3" t="n"><v>1</v></c>'
        '<c r="B3" t="inlineStr"><is><t>a&amp;b&lt;c&gt;d</t></is></c>'
        '<c r="D3" t="inlineStr"><is><t xml:space="preserve"> x</t></is></c>'  # C3 is left out
        '<c r="E3" t="inlineStr" /></row>'
        '<row r="4"><c r="A4" t="n"><v>2</v></c></row>'
    )


def test_data_rows_quote_formula_like_text_with_one_shared_style(sheet):
    styles: dict = {}
    first = data_rows(sheet, [["=1", "张三"]], 3, False, styles)
    quoted = styles[QUOTED]
    assert first == (
        f'<row r="3"><c r="A3" s="{quoted}" t="inlineStr"><is><t>=1</t></is></c>'
        '<c r="B3" t="inlineStr"><is><t>张三</t></is></c></row>'
    )
    assert data_rows(sheet, [["-2"]], 9, False, styles) == (
        f'<row r="9"><c r="A9" s="{quoted}" t="inlineStr"><is><t>-2</t></is></c></row>'
    )
    assert styles == {QUOTED: quoted}


def test_data_rows_keep_identity_numbers_as_text_and_dates_as_dates(sheet):
    styles: dict = {}
    xml = data_rows(sheet, [["411082201503071234", date(2015, 3, 7), 12, float("nan")]], 3, False, styles)
    dated = styles[date][1]
    assert xml == (
        '<row r="3"><c r="A3" t="inlineStr"><is><t>411082201503071234</t></is></c>'
        f'<c r="B3" s="{dated}" t="n"><v>42070</v></c>'  # Excel's serial of 2015-03-07
        '<c r="C3" t="n"><v>12</v></c><c r="D3" t="n"><v /></c></row>'
    )


def test_data_rows_cut_text_at_excels_limit_and_replace_what_no_workbook_holds(sheet):
    long = data_rows(sheet, [["长" * (MAX_TEXT + 10)]], 3, False, {})
    assert long.count("长") == MAX_TEXT == 32767
    assert data_rows(sheet, [["张\x00三\ufffe"]], 3, False, {}) == (
        f'<row r="3"><c r="A3" t="inlineStr"><is><t>张{REPLACEMENT}三{REPLACEMENT}</t></is></c></row>'
    )


@pytest.mark.parametrize(
    ("name", "title"),
    [
        ("城关镇", "城关镇"),
        ("", "_"),
        ("a[b]c:d*e?f/g\\h", "a_b_c_d_e_f_g_h"),
        ("镇" * 40, "镇" * 31),
    ],
)
def test_safe_sheet_title(name, title):
    assert safe_sheet_title(name) == title


@pytest.mark.parametrize("numbered", [True, False])
def test_a_sheet_is_a_title_a_header_frozen_below_them_and_the_rows(tmp_path, numbered):
    path = tmp_path / "台账.xlsx"
    header = ["序号", "姓名", "出生日期"] if numbered else ["姓名", "出生日期"]
    write_workbook(
        path, [("城关镇", "台账（2025-2026-1）城关镇", header, [["张三", date(2015, 3, 7)], ["=李四"]])], numbered
    )
    book = openpyxl.load_workbook(path)
    assert book.sheetnames == ["城关镇"]
    sheet = book["城关镇"]
    assert sheet.freeze_panes == "A3"
    assert sheet["A1"].value == "台账（2025-2026-1）城关镇" and sheet["A1"].font.b and sheet["A1"].font.sz == 13
    assert [c.value for c in sheet[2]] == header and all(c.font.b for c in sheet[2])
    rows = [[c.value for c in row] for row in sheet.iter_rows(min_row=3)]
    expected = [["张三", datetime(2015, 3, 7)], ["=李四", None]]
    assert rows == ([[i, *row] for i, row in enumerate(expected, 1)] if numbered else expected)
    quoted = sheet.cell(4, 2 if numbered else 1)
    assert quoted.data_type == "s" and quoted.quotePrefix
