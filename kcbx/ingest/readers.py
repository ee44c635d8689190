"""Read a delivered file as a table whatever its form: CSV in UTF-8, UTF-8 with BOM or
GB18030, or the first sheet of an XLSX or XLS workbook; the header found below any title
rows (SPEC §2), each row numbered as the clerk sees it in Excel."""

from __future__ import annotations

import codecs
import csv
import hashlib
import zipfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from itertools import chain
from pathlib import Path

from python_calamine import CalamineWorkbook

from kcbx.feeds import Feed
from kcbx.ingest.headers import HEADER_SEARCH_ROWS, HeaderMatch, find_header, header_text

CHUNK = 1 << 20
SPREADSHEETS = (".xlsx", ".xls")

Numbered = Iterator[tuple[int, list[object]]]


class FileProblem(Exception):
    """A whole-file problem, worded for the county clerk (Chinese / English)."""


@dataclass
class Table:
    """A delivered file below its header. Row numbers count every row of the sheet (or
    record of the CSV) from 1, title and blank rows included, as Excel shows them."""

    encoding: str
    header: list[str]
    header_row: int
    header_lines: int  # physical lines up to and including the header (CSV; Arrow skips them)
    preamble: list[list[object]]  # the rows above the header
    match: HeaderMatch  # match.missing is empty unless no row held every required header
    rows: Numbered
    done: Callable[[], float] = lambda: 0.0  # how much of the file has been read, 0..1 (progress)


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
def open_table(path: Path, feed: Feed, encoding: str | None = None) -> Iterator[Table]:
    suffix = path.suffix.lower()
    if suffix in SPREADSHEETS:
        with _open_workbook(path) as (kind, rows, done):
            yield _locate(feed, kind, rows, lines=None, done=done)
    elif suffix == ".csv":
        with _open_csv(path, encoding or fingerprint(path)[1]) as (encoding, rows, lines, done):
            yield _locate(feed, encoding, rows, lines, done)
    else:
        raise FileProblem(
            f"不支持的文件类型 {suffix}，请提供 CSV、XLSX 或 XLS / unsupported file type {suffix} (CSV, XLSX or XLS)"
        )


def _locate(feed: Feed, encoding: str, rows: Numbered, lines: list[int] | None, done: Callable[[], float]) -> Table:
    """Find the header among the first rows; the rest stream on. `lines` receives, per
    row read so far, the physical line count at its end (CSV only)."""
    head = [next(rows, None) for _ in range(HEADER_SEARCH_ROWS)]
    head = [r for r in head if r is not None]
    search = find_header(feed, [cells for _, cells in head])
    if search is None:
        raise FileProblem("文件为空（前 10 行没有内容）/ the file is empty (nothing in its first 10 rows)")
    number, header = head[search.index]
    return Table(
        encoding=encoding,
        header=[header_text(c) for c in header],
        header_row=number,
        header_lines=lines[search.index] if lines else number,
        preamble=[cells for _, cells in head[: search.index]],
        match=search.match,
        rows=chain(head[search.index + 1 :], rows),
        done=done,
    )


@contextmanager
def _open_csv(path: Path, encoding: str):
    try:
        with path.open(encoding=encoding, newline="", errors="strict") as fh:
            reader = csv.reader(fh)
            lines: list[int] = []

            def numbered() -> Numbered:
                for number, cells in enumerate(reader, start=1):
                    if len(lines) < HEADER_SEARCH_ROWS:
                        lines.append(reader.line_num)
                    yield number, cells

            size = max(path.stat().st_size, 1)
            yield encoding, numbered(), lines, lambda: fh.buffer.tell() / size
    except UnicodeDecodeError as exc:
        raise FileProblem(f"文件编码无法识别 / the file is not readable text ({exc.reason})") from exc
    except csv.Error as exc:
        raise FileProblem(f"CSV 格式错误 / malformed CSV ({exc})") from exc


MAX_XLSX_UNPACKED = 2 << 30  # 2 GiB of sheet XML is far beyond any county's workbook
MAX_XLSX_RATIO = 200  # real workbooks compress 5-20x; a zip bomb compresses 1000x
# The reader holds every shared string in memory at once. A county's 150,000-row 户籍
# workbook has about 20 MB of them; 64 MB is three times that.
MAX_SHARED_STRINGS = 64 << 20
# Calamine holds the whole first sheet in memory before the first row is read: 1.65-1.8 MB
# per MB of the sheet's XML (bench/reader_bench.py). This bound keeps a load near 700 MB
# and is well above a 500,000-row roll (162 MB of XML).
MAX_SHEET_XML = 400 << 20

_OLE2 = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # Excel 97-2003 (.xls) compound file
_ZIP = b"PK\x03\x04"


def _check_archive(path: Path) -> None:
    """Refuse zip bombs and oversized sheets from the archive directory, before anything inflates."""
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
    sheet = max((m.file_size for m in members if m.filename.lower().startswith("xl/worksheets/")), default=0)
    if sheet > MAX_SHEET_XML:
        raise FileProblem(
            f"Excel 工作表过大（解压后 {sheet >> 20} MB，上限 {MAX_SHEET_XML >> 20} MB），"
            "请拆分为多个文件或导出为 CSV / "
            f"a sheet unpacks to {sheet >> 20} MB (limit {MAX_SHEET_XML >> 20} MB): split it or export it as CSV"
        )


def _sniff(path: Path) -> str:
    """What the bytes are, whatever the name says: an .xls that is really an .xlsx (or the
    reverse) is read as what it is; a web page saved as .xls is refused with a remedy."""
    with path.open("rb") as fh:
        magic = fh.read(8)
    if magic.startswith(_ZIP):
        return "xlsx"
    if magic == _OLE2:
        return "xls"
    if not magic:
        raise FileProblem("文件为空 / the file is empty")
    if magic.lstrip().startswith(b"<"):
        raise FileProblem(
            "此 Excel 文件实为网页或 XML 表格，请在 Excel 中另存为 .xlsx 后重新交付 / the workbook is really a web "
            "page or XML table: save it as .xlsx in Excel and deliver it again"
        )
    raise FileProblem("不是有效的 Excel 工作簿 / not a readable XLSX or XLS workbook")


@contextmanager
def _open_workbook(path: Path):
    kind = _sniff(path)
    if kind == "xlsx":
        _check_archive(path)
    try:
        # Calamine reads the cached values of formula cells and never evaluates a formula.
        workbook = CalamineWorkbook.from_path(str(path))
        sheet = workbook.get_sheet_by_index(0)
    except Exception as exc:  # calamine raises its own error types for broken or fake workbooks
        raise FileProblem(
            f"不是有效的 Excel 工作簿 / not a readable {kind.upper()} workbook ({type(exc).__name__})"
        ) from exc
    try:
        # iter_rows starts at row 1 (leading blank rows included), so numbers are Excel's.
        numbered = enumerate(sheet.iter_rows(), start=1)
        height = max(sheet.total_height, 1)
        read = [0]

        def counted() -> Numbered:
            for number, cells in numbered:
                read[0] = number
                yield number, cells

        yield kind, counted(), lambda: read[0] / height
    finally:
        workbook.close()
