"""Read a delivered file as a table whatever its form: CSV in UTF-8, UTF-8 with BOM or
GB18030, or the first sheet of an XLSX or XLS workbook; the header found below any title
rows (SPEC §2), each row numbered as the clerk sees it in Excel."""

from __future__ import annotations

import codecs
import csv
import errno
import hashlib
import io
import os
import stat
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from itertools import chain
from pathlib import Path
from typing import BinaryIO

from python_calamine import CalamineWorkbook

from kcbx.feeds import Feed
from kcbx.ingest import workbooks
from kcbx.ingest.headers import HEADER_SEARCH_ROWS, HeaderMatch, find_header, header_text

CHUNK = 1 << 20
SPREADSHEETS = (".xlsx", ".xls")
# Any one delivered file. A county's attendance for a whole term (5 million roll calls) is
# about 330 MB of CSV, the largest file a department sends; 2 GiB is six times that. A
# larger file is refused unread (not even its checksum is computed).
MAX_FILE_BYTES = 2 << 30
# CSV records, so that one line cannot take the loader's memory: a field of at most
# Python's default 128 KiB (csv.field_size_limit, set explicitly), a record (all its
# lines) of at most 1 MiB and 1,000 fields. A county roll has under 40 columns and lines
# under 1 kB. A record beyond one of them is quarantined as `row_too_large`, its content
# unread; among the rows searched for the header, the file is rejected. Measured with
# resource.getrusage in a child process, opening a file whose first line is 20 MB of
# commas peaked at 181 MB over the interpreter (a list of 20 million fields; 4.2 s) and
# now at 3 MB (0.05 s); as a data row below the header, 181 MB then and 3 MB now.
MAX_CSV_FIELD = 128 << 10
MAX_CSV_RECORD = 1 << 20
MAX_COLUMNS = 1000

Numbered = Iterator[tuple[int, list[object]]]


class FileProblem(Exception):
    """A whole-file problem, worded for the county clerk (Chinese / English)."""


class OversizedRow(list):
    """A CSV record beyond MAX_CSV_RECORD characters, MAX_CSV_FIELD in one field or
    MAX_COLUMNS fields: counted and quarantined, its content not kept."""


def open_delivered(path: Path) -> BinaryIO:
    """A delivered file opened for reading, never through a symbolic link (O_NOFOLLOW: a
    link swapped in after the landing folder was checked is refused, not followed), and
    only if it is a regular file (a FIFO would block the run) within MAX_FILE_BYTES."""
    flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0)
    try:
        fd = os.open(path, flags)
    except OSError as exc:
        if exc.errno in (errno.ELOOP, errno.EMLINK) or os.path.islink(path):
            raise FileProblem("文件是符号链接，不予读取 / the file is a symbolic link: not read") from None
        raise FileProblem(f"文件无法打开 / the file cannot be opened ({exc.strerror})") from None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise FileProblem("不是普通文件，不予读取 / not a regular file: not read")
        if info.st_size > MAX_FILE_BYTES:
            raise FileProblem(
                f"文件过大（{info.st_size >> 20} MB，上限 {MAX_FILE_BYTES >> 20} MB），请拆分为多个文件后重新交付 / "
                f"the file is {info.st_size >> 20} MB (limit {MAX_FILE_BYTES >> 20} MB): split it into several "
                "files and deliver them again"
            )
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise


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
    try:
        fh = open_delivered(path)
    except FileProblem as problem:
        # Not read: the load refuses it with this problem. A stable print of what is there
        # keeps the delivery comparable (the same refused file is the same delivery).
        return _unread_print(path, str(problem)), "utf-8"
    digest = hashlib.sha256()
    decoder = codecs.getincrementaldecoder("utf-8")()
    encoding = "utf-8"
    with fh:
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


def _unread_print(path: Path, problem: str) -> str:
    try:
        info = os.lstat(path)
        seen = f"{info.st_mode}\0{info.st_size}\0{info.st_mtime_ns}"
    except OSError:
        seen = "missing"
    text = f"\0{seen}\0{problem}".encode()
    return hashlib.sha256(b"not read\0" + os.fsencode(path.name) + text).hexdigest()


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
    search = find_header(feed, [[] if isinstance(cells, OversizedRow) else cells for _, cells in head])
    oversized = [number for number, cells in head if isinstance(cells, OversizedRow)]
    if oversized and (search is None or not search.found or oversized[0] < head[search.index][0]):
        # An oversized row where the header was looked for: this is not a table a clerk exported.
        raise FileProblem(
            f"第 {oversized[0]} 行过长（超过 {MAX_CSV_RECORD >> 20} MB、单个单元格超过 {MAX_CSV_FIELD >> 10} KB 或超过 "
            f"{MAX_COLUMNS} 列），找不到表头，不是可读取的 CSV 表格 / row {oversized[0]} is too large (over "
            f"{MAX_CSV_RECORD >> 20} MiB, {MAX_CSV_FIELD >> 10} KiB in one cell or {MAX_COLUMNS} columns) where "
            "the header should be: not a readable CSV table"
        )
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


class _RecordTooLong(Exception):
    pass


class _Lines:
    """The file's physical lines for csv.reader, never more than MAX_CSV_RECORD
    characters of one record in memory: past that, the rest of the line is skipped and
    the record abandoned (_RecordTooLong)."""

    def __init__(self, text: io.TextIOBase):
        self.text = text
        self.count = 0  # physical lines read
        self.used = 0  # characters of the current record so far

    def __iter__(self) -> _Lines:
        return self

    def __next__(self) -> str:
        room = MAX_CSV_RECORD - self.used
        line = self.text.readline(room + 1)
        if not line:
            raise StopIteration
        self.count += 1
        if len(line) > room:
            while line and not line.endswith(("\n", "\r")):  # the rest of this line, unread
                line = self.text.readline(CHUNK)
            raise _RecordTooLong
        self.used += len(line)
        return line


@contextmanager
def _open_csv(path: Path, encoding: str):
    csv.field_size_limit(MAX_CSV_FIELD)
    try:
        with open_delivered(path) as raw, io.TextIOWrapper(raw, encoding=encoding, newline="", errors="strict") as fh:
            source = _Lines(fh)
            lines: list[int] = []

            def numbered() -> Numbered:
                number = 0

                def record(cells: list[str]) -> tuple[int, list[object]]:
                    # The reader has read exactly this record's lines (it never reads ahead).
                    nonlocal number
                    number += 1
                    source.used = 0
                    if len(lines) < HEADER_SEARCH_ROWS:
                        lines.append(source.count)
                    return number, cells

                while True:
                    try:
                        for cells in csv.reader(source):
                            yield record(cells if len(cells) <= MAX_COLUMNS else OversizedRow())
                        return
                    except _RecordTooLong:
                        pass
                    except csv.Error as exc:
                        if "field larger than field limit" not in str(exc):
                            raise
                    # A fresh reader after an oversized record: it starts on the next line.
                    yield record(OversizedRow())

            size = max(os.fstat(raw.fileno()).st_size, 1)
            yield encoding, numbered(), lines, lambda: raw.tell() / size
    except UnicodeDecodeError as exc:
        raise FileProblem(f"文件编码无法识别 / the file is not readable text ({exc.reason})") from exc
    except csv.Error as exc:
        raise FileProblem(f"CSV 格式错误 / malformed CSV ({exc})") from exc


_OLE2 = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # Excel 97-2003 (.xls) compound file
_ZIP = b"PK\x03\x04"


def _sniff(fh: BinaryIO) -> str:
    """What the bytes are, whatever the name says: an .xls that is really an .xlsx (or the
    reverse) is read as what it is; a web page saved as .xls is refused with a remedy."""
    fh.seek(0)
    magic = fh.read(8)
    fh.seek(0)
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
def _same_file(fh: BinaryIO, kind: str) -> Iterator[str]:
    """A path by which calamine (which opens by path) opens exactly the file `fh` holds,
    named for its format: a link to the open descriptor in a private folder. A name
    swapped in the landing folder after it was opened cannot redirect the reader."""
    descriptors = next((d for d in ("/proc/self/fd", "/dev/fd") if os.path.isdir(d)), None)
    with tempfile.TemporaryDirectory(prefix="kcbx-workbook-") as private:
        target = Path(private) / f"workbook.{kind}"
        if descriptors:
            os.symlink(f"{descriptors}/{fh.fileno()}", target)
        else:  # no descriptor links on this system: a private copy
            fh.seek(0)
            with target.open("wb") as copy:
                while chunk := fh.read(CHUNK):
                    copy.write(chunk)
        yield str(target)


def _reject_calamine_failure(exc: BaseException, kind: str) -> None:
    """The file's rejection when calamine failed on it (the caller re-raises anything else)."""
    if _calamine_failed(exc):
        raise FileProblem(
            f"不是有效的 Excel 工作簿 / not a readable {kind.upper()} workbook ({type(exc).__name__})"
        ) from None


def _calamine_failed(exc: BaseException) -> bool:
    """An error from calamine for a broken or fake workbook, including a Rust panic
    (pyo3's PanicException is a BaseException, which `except Exception` misses)."""
    return isinstance(exc, Exception) or type(exc).__name__ == "PanicException"


@contextmanager
def _open_workbook(path: Path):
    """The first sheet's rows, once kcbx/ingest/workbooks.py has bounded what reading it costs."""
    with open_delivered(path) as fh:
        kind = _sniff(fh)
        try:
            workbooks.check_xlsx(fh) if kind == "xlsx" else workbooks.check_xls(fh)
        except workbooks.Refused as refused:
            raise FileProblem(str(refused)) from None
        with _same_file(fh, kind) as same:
            try:
                # Calamine reads the cached values of formula cells and never evaluates a formula.
                workbook = CalamineWorkbook.from_path(same)
                sheet = workbook.get_sheet_by_index(0)
            except BaseException as exc:
                _reject_calamine_failure(exc, kind)
                raise
        try:
            # iter_rows starts at row 1 (leading blank rows included), so numbers are Excel's.
            numbered = enumerate(sheet.iter_rows(), start=1)
            height = max(sheet.total_height, 1)
            read = [0]

            def counted() -> Numbered:
                try:
                    for number, cells in numbered:
                        read[0] = number
                        yield number, cells
                except BaseException as exc:
                    _reject_calamine_failure(exc, kind)
                    raise

            yield kind, counted(), lambda: read[0] / height
        finally:
            workbook.close()
