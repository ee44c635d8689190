"""The hostile-input corpus: files a county share drive really collects, and files made
to break a loader. Generated at test time (the large ones would bloat the repository);
each entry (`Hostile`) names its feed, its file name, its bytes and what the loader must
do with it: refuse the file with a message, or load it with these rows quarantined and
these cells' control characters removed. tests/integration/test_ingest.py loads each file
alone; tests/integration/test_hostile_run.py delivers them all beside a county's files
and runs `kcbx run`."""

from __future__ import annotations

import io
import random
import struct
import zipfile
from collections.abc import Callable
from datetime import date
from typing import NamedTuple

import openpyxl
import xlwt

from kcbx.identity import make_number

KAOQIN_HEADER = "学校标识码,日期,全国学籍号,班级,出勤状态\n"


def _workbook(rows: list[list[object]]) -> bytes:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def truncated_xlsx() -> bytes:
    whole = _workbook(
        [["学校标识码", "日期", "全国学籍号", "班级", "出勤状态"], ["2141082001", "2025-09-01", "L1", "", "出勤"]]
    )
    return whole[: len(whole) // 2]


def zip_bomb_xlsx() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        # 300 MB of one byte repeated compresses to ~300 kB.
        with archive.open("xl/worksheets/sheet1.xml", "w") as member:
            chunk = b"<" * (1 << 20)
            for _ in range(300):
                member.write(chunk)
    return out.getvalue()


def shared_strings_xlsx() -> bytes:
    """70 MB of shared strings in a ~2 MB file: inside the zip-bomb ratio (text of mostly
    'A' with a random 'B' in 32 compresses ~40x), but openpyxl would hold it all in memory."""
    out = io.BytesIO()
    letters = bytes(66 if i < 8 else 65 for i in range(256))
    rng = random.Random(7)
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        with archive.open("xl/sharedStrings.xml", "w") as member:
            for _ in range(70):
                member.write(b"<si><t>" + rng.randbytes(1 << 20).translate(letters) + b"</t></si>")
    return out.getvalue()


def formula_xlsx() -> bytes:
    return _workbook(
        [
            ["学校标识码", "日期", "全国学籍号", "班级", "出勤状态"],
            ["2141082001", "2025-09-01", '=HYPERLINK("http://example.invalid","L1")', "", "出勤"],
            ["2141082001", "2025-09-01", "=cmd|' /C calc'!A0", "", "出勤"],
        ]
    )


def _minimal_xlsx(sheet_xml: str, sheet_part: str = "xl/worksheets/sheet1.xml") -> bytes:
    """A workbook written by hand: the package and workbook relationships, one sheet."""
    target = sheet_part.removeprefix("xl/")
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(
            "[Content_Types].xml",
            '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
            '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
            '<Default Extension="xml" ContentType="application/xml"/></Types>',
        )
        archive.writestr(
            "_rels/.rels",
            '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship '
            'Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" '
            'Target="xl/workbook.xml"/></Relationships>',
        )
        archive.writestr(
            "xl/workbook.xml",
            '<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r='
            '"http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets>'
            '<sheet name="S" sheetId="1" r:id="rId1"/></sheets></workbook>',
        )
        archive.writestr(
            "xl/_rels/workbook.xml.rels",
            '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship '
            'Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" '
            f'Target="{target}"/></Relationships>',
        )
        archive.writestr(
            sheet_part,
            '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>'
            f"{sheet_xml}</sheetData></worksheet>",
        )
    return out.getvalue()


def sparse_xlsx() -> bytes:
    """1.5 kB, two cells: A1 and XFD1048576, the last cell Excel has. Calamine would build
    the grid between them, 17 billion cells (512 GiB), and abort the process."""
    return _minimal_xlsx('<row r="1"><c r="A1"><v>1</v></c></row><row r="1048576"><c r="XFD1048576"><v>2</v></c></row>')


def relocated_sheet_xlsx() -> bytes:
    """A valid workbook whose sheet is stored as xl/data.xml (the relationship says so):
    bounds on xl/worksheets/ alone would not see it."""
    rows = [["学校标识码", "日期", "全国学籍号", "班级", "出勤状态"], ["2141082001", "2025-09-01", "L1", "1班", "出勤"]]
    whole = io.BytesIO(_workbook(rows))
    out = io.BytesIO()
    with zipfile.ZipFile(whole) as source, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for info in source.infolist():
            body = source.read(info)
            name = info.filename
            if name == "xl/worksheets/sheet1.xml":
                name = "xl/data.xml"
            elif name in ("xl/_rels/workbook.xml.rels", "[Content_Types].xml"):
                body = body.replace(b"/xl/worksheets/sheet1.xml", b"/xl/data.xml")
            archive.writestr(name, body)
    return out.getvalue()


def relocated_sparse_xlsx() -> bytes:
    """The sparse sheet stored as xl/data.xml: a grid bound that looked only under
    xl/worksheets/ would hand it to calamine, and the process would abort."""
    return _minimal_xlsx(
        '<row r="1"><c r="A1"><v>1</v></c></row><row r="1048576"><c r="XFD1048576"><v>2</v></c></row>',
        sheet_part="xl/data.xml",
    )


def dimensions_xls() -> bytes:
    """A 6 kB .xls whose DIMENSIONS record claims 16 million rows x 255 columns: calamine
    reserves that many cells (152 GiB) when the workbook opens, and the process aborts."""
    workbook = xlwt.Workbook(encoding="utf-8")
    sheet = workbook.add_sheet("S")
    for col, name in enumerate(["学校标识码", "日期", "全国学籍号", "班级", "出勤状态"]):
        sheet.write(0, col, name)
    out = io.BytesIO()
    workbook.save(out)
    data = bytearray(out.getvalue())
    at = data.find(b"\x00\x02\x0e\x00")  # DIMENSIONS (0x0200), 14 bytes
    struct.pack_into("<IIHH", data, at + 4, 0, 16_000_000, 0, 255)
    return bytes(data)


# The 学籍号 on the row whose code holds a NUL: PostgreSQL's error for that row quoted the
# whole row (its CONTEXT line), so this value must appear in no output.
NUL_MARKER = "NUL-MARKER-7Q4Z"


def nul_csv() -> bytes:
    """NUL bytes in a free-text cell and in a code: PostgreSQL refuses NUL in text, in
    COPY and in jsonb alike."""
    return (
        KAOQIN_HEADER
        + "2141082001,2025-09-01,L1,1\x00班,出勤\n"
        + f"2141082001,2025-09-01,{NUL_MARKER},1班,出\x00勤\n"
        + "2141082001,2025-09-01,L3,1班,出勤\n"
    ).encode()


HUJI_HEADER = "身份证号,姓名,性别,出生日期,户籍地区划代码,人员状态\n"
# An adult (outside the compulsory-education cohort: a county run's findings do not change)
# whose name holds a control character. openpyxl refuses 张\x01三 in any output, and its
# error named the value.
CONTROL_NAME = "张\x01三"
CONTROL_NUMBER = make_number("411082", date(1985, 4, 2), 17)


def control_char_csv() -> bytes:
    return (HUJI_HEADER + f"{CONTROL_NUMBER},{CONTROL_NAME},男,1985-04-02,411082100201,正常\n").encode()


COMMAS = b"," * (20 << 20)


class Hostile(NamedTuple):
    feed: str
    name: str
    make: Callable[[], bytes]
    refused: str = ""  # the file is rejected whole, its message holding this; "" = it loads
    reasons: frozenset[str] = frozenset()  # it loads: the reasons of its rows in audit.rejected_rows
    control_cells: tuple[tuple[int, str], ...] = ()  # it loads: (source_row, column) in audit.control_char_cells


CORPUS: list[Hostile] = [
    Hostile("kaoqin", "截断的表格.xlsx", truncated_xlsx, "XLSX"),
    Hostile("kaoqin", "garbage.csv", lambda: bytes(range(256)) * 4000, "编码"),
    Hostile("kaoqin", "one_line_50mb.csv", lambda: b"x" * (50 << 20), "CSV"),
    Hostile("kaoqin", "bomb.xlsx", zip_bomb_xlsx, "MB"),
    Hostile("kaoqin", "strings.xlsx", shared_strings_xlsx, "文本表过大"),
    # loads: formulas are text, never run; a formula without a cached value is an empty cell
    Hostile("kaoqin", "formulas.xlsx", formula_xlsx, reasons=frozenset({"missing_value"})),
    Hostile(
        "kaoqin",
        "'; drop table raw.kaoqin; --.csv",
        lambda: (KAOQIN_HEADER + "2141082001,2025-09-01,'); drop table audit.load_files; --,1班,出勤\n").encode(),
    ),
    Hostile(
        "kaoqin",
        "quotes.csv",
        lambda: '"学校标识码";"日期",全国学籍号,"班""级",出勤状态\n2141082001,2025-09-01,L1,1班,出勤\n'.encode(),
        "缺少必填列",
    ),
    Hostile("kaoqin", "sparse.xlsx", sparse_xlsx, "1,048,576 行 × 16,384 列"),
    Hostile("kaoqin", "relocated_sheet.xlsx", relocated_sheet_xlsx),  # loads: a sheet may be called anything
    # ... but the grid bound follows it there
    Hostile("kaoqin", "relocated_sparse.xlsx", relocated_sparse_xlsx, "1,048,576 行 × 16,384 列"),
    Hostile("kaoqin", "dimensions.xls", dimensions_xls, "单元格"),
    # loads: NUL removed from the free text, the row with NUL in its code rejected
    Hostile("kaoqin", "nul.csv", nul_csv, reasons=frozenset({"bad_code"}), control_cells=((2, "class_name"),)),
    Hostile("huji", "control_char.csv", control_char_csv, control_cells=((2, "name"),)),  # loads as 张三
    Hostile("kaoqin", "commas_20mb_first.csv", lambda: COMMAS + b"\n", "CSV"),
    Hostile(
        "kaoqin",
        "commas_20mb_row.csv",  # loads: the line is quarantined as row_too_large
        lambda: (KAOQIN_HEADER + "2141082001,2025-09-01,L1,1班,出勤\n").encode() + COMMAS + b"\n",
        reasons=frozenset({"row_too_large"}),
    ),
]
