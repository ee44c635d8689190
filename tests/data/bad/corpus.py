"""The hostile-input corpus: files a county share drive really collects, and files made
to break a loader. Generated at test time (the large ones would bloat the repository);
each entry is (feed, file name, bytes factory, what the loader must say)."""

from __future__ import annotations

import io
import random
import struct
import zipfile
from collections.abc import Callable

import openpyxl
import xlwt

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


def nul_csv() -> bytes:
    """NUL bytes in a free-text cell and in a code: PostgreSQL refuses NUL in text, in
    COPY and in jsonb alike."""
    return (
        KAOQIN_HEADER
        + "2141082001,2025-09-01,L1,1\x00班,出勤\n"
        + "2141082001,2025-09-01,L2,1班,出\x00勤\n"
        + "2141082001,2025-09-01,L3,1班,出勤\n"
    ).encode()


COMMAS = b"," * (20 << 20)

CORPUS: list[tuple[str, str, Callable[[], bytes], str]] = [
    ("kaoqin", "截断的表格.xlsx", truncated_xlsx, "XLSX"),
    ("kaoqin", "garbage.csv", lambda: bytes(range(256)) * 4000, "编码"),
    ("kaoqin", "one_line_50mb.csv", lambda: b"x" * (50 << 20), "CSV"),
    ("kaoqin", "bomb.xlsx", zip_bomb_xlsx, "MB"),
    ("kaoqin", "strings.xlsx", shared_strings_xlsx, "文本表过大"),
    ("kaoqin", "formulas.xlsx", formula_xlsx, ""),  # loads: formulas are text, never run
    (
        "kaoqin",
        "'; drop table raw.kaoqin; --.csv",
        lambda: (KAOQIN_HEADER + "2141082001,2025-09-01,'); drop table audit.load_files; --,1班,出勤\n").encode(),
        "",
    ),
    (
        "kaoqin",
        "quotes.csv",
        lambda: '"学校标识码";"日期",全国学籍号,"班""级",出勤状态\n2141082001,2025-09-01,L1,1班,出勤\n'.encode(),
        "缺少必填列",
    ),
    ("kaoqin", "sparse.xlsx", sparse_xlsx, "单元格"),
    ("kaoqin", "relocated_sheet.xlsx", relocated_sheet_xlsx, ""),  # loads: a sheet may be called anything
    ("kaoqin", "dimensions.xls", dimensions_xls, "单元格"),
    ("kaoqin", "nul.csv", nul_csv, ""),  # loads: NUL removed from the text, the code rejected
    ("kaoqin", "commas_20mb_first.csv", lambda: COMMAS + b"\n", "CSV"),
    (
        "kaoqin",
        "commas_20mb_row.csv",  # loads: the line is quarantined as row_too_large
        lambda: (KAOQIN_HEADER + "2141082001,2025-09-01,L1,1班,出勤\n").encode() + COMMAS + b"\n",
        "",
    ),
]
