"""The hostile-input corpus: files a county share drive really collects, and files made
to break a loader. Generated at test time (the large ones would bloat the repository);
each entry is (feed, file name, bytes factory, what the loader must say)."""

from __future__ import annotations

import io
import random
import zipfile
from collections.abc import Callable

import openpyxl

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
]
