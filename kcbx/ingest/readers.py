"""Stream a delivered file as (header, rows) whatever its form: CSV in UTF-8, UTF-8 with
BOM or GB18030, or the first sheet of an XLSX workbook."""

from __future__ import annotations

import codecs
import csv
import hashlib
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import openpyxl

CHUNK = 1 << 20


class FileProblem(Exception):
    """A whole-file problem, worded for the county clerk (Chinese / English)."""


def fingerprint(path: Path) -> tuple[str, str]:
    """(sha256, text encoding) in one pass over the file: large deliveries are read once
    before loading, not twice. The encoding is utf-8-sig (BOM), utf-8, or gb18030 when
    the bytes are not valid UTF-8; it is meaningless for a workbook."""
    digest = hashlib.sha256()
    decoder = codecs.getincrementaldecoder("utf-8")()
    encoding = "utf-8"
    with path.open("rb") as fh:
        first = True
        while chunk := fh.read(CHUNK):
            digest.update(chunk)
            if first and chunk.startswith(codecs.BOM_UTF8):
                encoding = "utf-8-sig"
            first = False
            if encoding == "utf-8":
                try:
                    decoder.decode(chunk)
                except UnicodeDecodeError:
                    encoding = "gb18030"
    if encoding == "utf-8":
        try:
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            encoding = "gb18030"
    return digest.hexdigest(), encoding


@contextmanager
def open_table(path: Path, encoding: str | None = None) -> Iterator[tuple[str, list[str], Iterator[list[object]]]]:
    """Yield (encoding, header, rows). Rows are lists aligned with the header."""
    suffix = path.suffix.lower()
    if suffix == ".xlsx":
        with _open_xlsx(path) as table:
            yield table
    elif suffix == ".csv":
        with _open_csv(path, encoding or fingerprint(path)[1]) as table:
            yield table
    else:
        raise FileProblem(f"不支持的文件类型 {suffix}，请提供 CSV 或 XLSX / unsupported file type {suffix}")


@contextmanager
def _open_csv(path: Path, encoding: str):
    try:
        with path.open(encoding=encoding, newline="", errors="strict") as fh:
            reader = csv.reader(fh)
            header = next(reader, None)
            if header is None:
                raise FileProblem("文件为空 / the file is empty")
            yield encoding, header, reader
    except UnicodeDecodeError as exc:
        raise FileProblem(f"文件编码无法识别 / the file is not readable text ({exc.reason})") from exc
    except csv.Error as exc:
        raise FileProblem(f"CSV 格式错误 / malformed CSV ({exc})") from exc


MAX_XLSX_UNPACKED = 2 << 30  # 2 GiB of sheet XML is far beyond any county's workbook
MAX_XLSX_RATIO = 200  # real workbooks compress 5-20x; a zip bomb compresses 1000x
# openpyxl holds every shared string in memory at once (a Python str each). A county's
# 150,000-row 户籍 workbook has about 20 MB of them; 64 MB is three times that.
MAX_SHARED_STRINGS = 64 << 20


def _check_archive(path: Path) -> None:
    """Refuse zip bombs before openpyxl inflates anything."""
    try:
        with zipfile.ZipFile(path) as archive:
            members = archive.infolist()
    except (zipfile.BadZipFile, OSError) as exc:
        raise FileProblem(f"不是有效的 Excel 工作簿 / not a readable XLSX workbook ({type(exc).__name__})") from exc
    unpacked = sum(m.file_size for m in members)
    packed = sum(m.compress_size for m in members) or 1
    if unpacked > MAX_XLSX_UNPACKED or (unpacked > 50 << 20 and unpacked / packed > MAX_XLSX_RATIO):
        raise FileProblem(
            f"Excel 文件解压后异常巨大（{unpacked >> 20} MB），疑似损坏或恶意文件 / "
            f"workbook would unpack to {unpacked >> 20} MB: refused as corrupt or malicious"
        )
    shared = sum(m.file_size for m in members if m.filename.lower().endswith("sharedstrings.xml"))
    if shared > MAX_SHARED_STRINGS:
        raise FileProblem(
            f"Excel 文件的文本表过大（{shared >> 20} MB，上限 {MAX_SHARED_STRINGS >> 20} MB），请拆分为多个文件 / "
            f"the workbook's shared strings unpack to {shared >> 20} MB (limit {MAX_SHARED_STRINGS >> 20} MB): "
            "split it into several files"
        )


@contextmanager
def _open_xlsx(path: Path):
    _check_archive(path)
    try:
        # data_only: formulas are never evaluated, only their cached values are read.
        workbook = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many types for a broken or fake workbook
        raise FileProblem(f"不是有效的 Excel 工作簿 / not a readable XLSX workbook ({type(exc).__name__})") from exc
    try:
        sheet = workbook.worksheets[0]
        rows = sheet.iter_rows(values_only=True)
        header = next(rows, None)
        if header is None:
            raise FileProblem("工作表为空 / the first sheet is empty")
        yield "xlsx", ["" if h is None else str(h) for h in header], (list(r) for r in rows)
    finally:
        workbook.close()
