"""The workbooks' rows of data are written as text (kcbx.outputs.cells.data_rows), not as
an openpyxl cell each: the workbook must be the one openpyxl writes from cell(), part
for part and byte for byte, whatever the values."""

from __future__ import annotations

import re
import zipfile
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

import openpyxl
import pytest

from kcbx.outputs.cells import cell
from kcbx.outputs.workbook import HEADER_FONT, TITLE_FONT, safe_sheet_title, write_workbook

pytestmark = pytest.mark.unit

VALUES = [
    "张三",
    "",
    " 前后有空格 ",
    "\u3000全角空格",
    "   ",
    "a&b<c>d\"e'f",
    "一\t二\n三\r四",
    '=HYPERLINK("http://example.invalid","x")',
    "=",
    "+1",
    "-1",
    "@SUM(A1)",
    "\t=1",
    "\r=1",
    "#N/A",
    "张\x01三\x00",
    "a\ufffeb\uffffc\ud800d",
    "长" * 40000,
    b"\xe6\xac\xa7\x01",
    bytearray(b"=1"),
    None,
    0,
    -7,
    10**17,
    True,
    False,
    1.5,
    float("nan"),
    float("inf"),
    Decimal("0.1234567890123456789"),
    Decimal("12.50"),
    Decimal("NaN"),
    date(2015, 3, 7),
    date(1900, 2, 1),
    datetime(2025, 9, 8, 7, 30, 15),
    time(8, 15),
    timedelta(days=2, hours=3),
]


def reference(path, sheets, numbered=True):
    """What the writers did before data_rows: every value through cell() and openpyxl."""
    workbook = openpyxl.Workbook(write_only=True)
    for name, title, header, rows in sheets:
        sheet = workbook.create_sheet(safe_sheet_title(name))
        sheet.freeze_panes = "A3"
        sheet.append([cell(sheet, title, TITLE_FONT)])
        sheet.append([cell(sheet, h, HEADER_FONT) for h in header])
        for i, row in enumerate(rows, start=1):
            sheet.append([*([i] if numbered else []), *(cell(sheet, v) for v in row)])
    workbook.save(path)


STAMPS = re.compile(rb"<dcterms:(created|modified)[^>]*>[^<]*</dcterms:\1>")


def parts(path) -> list[tuple[str, bytes]]:
    with zipfile.ZipFile(path) as archive:
        return [
            (
                info.filename,
                STAMPS.sub(b"", archive.read(info)) if info.filename == "docProps/core.xml" else archive.read(info),
            )
            for info in archive.infolist()
        ]


def assert_same(tmp_path, sheets, numbered=True):
    ours, theirs = tmp_path / "ours.xlsx", tmp_path / "theirs.xlsx"
    write_workbook(ours, sheets, numbered)
    reference(theirs, sheets, numbered)
    assert parts(ours) == parts(theirs)
    return ours


@pytest.mark.parametrize("numbered", [True, False])
def test_every_kind_of_value_is_written_as_openpyxl_writes_it(tmp_path, numbered):
    rows = [VALUES, list(reversed(VALUES)), [None, None], [], ["只有一格"]]
    path = assert_same(tmp_path, [("城关镇", "台账（2025-2026-1）城关镇", ["序号", "姓名"], rows)], numbered)
    sheet = openpyxl.load_workbook(path).active
    hostile = [c for c in sheet[3] if isinstance(c.value, str) and c.value[:1] in ("=", "+", "-", "@", "\t", "\r")]
    assert hostile and all(c.data_type == "s" and c.quotePrefix for c in hostile)


def test_styles_are_numbered_in_the_order_openpyxl_meets_them(tmp_path):
    # a date before any quoted text in one workbook, after it in another; a datetime adds its own format
    dated = [[date(2025, 9, 8), "=1"], [datetime(2025, 9, 8, 1, 2, 3)]]
    quoted = [["=1", date(2025, 9, 8)], ["-2"]]
    assert_same(tmp_path, [("乙镇", "乙", ["姓名"], dated), ("甲镇", "甲", ["姓名"], quoted)])
    assert_same(tmp_path, [("甲镇", "甲", ["姓名"], quoted), ("乙镇", "乙", ["姓名"], dated)])


def test_sheets_without_rows_long_or_awkward_names_and_duplicates(tmp_path):
    sheets = [
        ("无记录", "台账 无记录", ["序号", "姓名"], []),
        ("a/b:c*d?[e]" + "镇" * 40, "标题", ["x"], [["一"]]),
        ("城关镇", "标题", ["x"], [["二"]]),
        ("城关镇", "标题", ["x"], [["三"]]),  # openpyxl names it 城关镇1
        ("=sheet", "=标题", ["=表头"], [[1]]),
    ]
    assert_same(tmp_path, sheets)


def test_a_value_a_cell_cannot_hold_is_refused_without_naming_it(tmp_path):
    with pytest.raises(TypeError, match=r"^a workbook cell cannot hold a dict$"):
        write_workbook(tmp_path / "x.xlsx", [("镇", "标题", ["x"], [[{"姓名": "欧阳泄露"}]])])
    with pytest.raises(TypeError) as refused:
        write_workbook(tmp_path / "y.xlsx", [("镇", "标题", ["x"], [[datetime(2025, 9, 8, tzinfo=UTC)]])])
    assert "2025" not in str(refused.value)
