"""The workbooks KCBX writes (台账, 预警名单, 周报): sheets of a title row, a header row,
frozen below them, and rows of data, every cell made by kcbx.outputs.cells.

openpyxl builds the workbook (styles, sheet views, relationships) around the title and
header rows; the rows of data, most of the time a run spends on workbooks, are written
by cells.data_rows into each sheet's sheetData, exactly as openpyxl would write them.
"""

from __future__ import annotations

import contextlib
import io
import zipfile
from collections.abc import Iterable, Sequence
from pathlib import Path

import openpyxl
from openpyxl.styles import Font

from kcbx.outputs.cells import cell, data_rows

TITLE_FONT, HEADER_FONT = Font(bold=True, size=13), Font(bold=True)
_SHEET_TITLE_BAD = str.maketrans({c: "_" for c in "[]:*?/\\"})
_END_OF_ROWS = b"</sheetData>"


def safe_sheet_title(name: str) -> str:
    """Excel limits sheet names to 31 characters and forbids []:*?/\\ in them."""
    return name.translate(_SHEET_TITLE_BAD)[:31] or "_"


def write_workbook(
    path: Path, sheets: Iterable[tuple[str, str, list[str], Sequence[Sequence]]], numbered: bool = True
) -> None:
    """Write path: per (name, title, header, rows) a sheet named safe_sheet_title(name)
    with the title in A1, the header in row 2 (frozen above A3) and the rows below, each
    after its number (序号) if numbered."""
    workbook = openpyxl.Workbook(write_only=True)
    styles: dict = {}  # the data cells' styles, shared by the workbook's sheets
    rows_of: dict[object, bytes] = {}
    try:
        for name, title, header, rows in sheets:
            sheet = workbook.create_sheet(safe_sheet_title(name))
            sheet.freeze_panes = "A3"
            sheet.append([cell(sheet, title, TITLE_FONT)])
            sheet.append([cell(sheet, h, HEADER_FONT) for h in header])
            rows_of[sheet] = data_rows(sheet, rows, 3, numbered, styles).encode("utf-8")
    except BaseException:
        # A value no cell can hold: close the sheets' streams now, not when they are
        # collected (openpyxl's writer then fails on its closed file, noisily).
        for sheet in workbook.worksheets:
            with contextlib.suppress(Exception):
                sheet.close()
        raise
    built = io.BytesIO()
    workbook.save(built)  # every style the rows use is in the workbook by now
    parts = {sheet.path.lstrip("/"): rows for sheet, rows in rows_of.items()}
    with zipfile.ZipFile(built) as source, zipfile.ZipFile(path, "w") as target:
        for info in source.infolist():
            part = source.read(info)
            if info.filename in parts:
                head, tail = part.split(_END_OF_ROWS)  # one sheetData, text cannot hold "<"
                part = b"".join((head, parts.pop(info.filename), _END_OF_ROWS, tail))
            target.writestr(info, part)
    if parts:
        raise RuntimeError("a worksheet was missing from the workbook openpyxl wrote")
