"""What reading a workbook would cost, found from the file itself before python-calamine
reads it.

Calamine (Rust) builds the whole first sheet as one grid of cells, sized by the
references the file declares, and an .xls workbook's records can ask it to reserve any
amount of memory. When Rust cannot allocate, it aborts the process (SIGABRT): no
`except` catches that, and the run dies. A 1.5 kB workbook holding two cells, A1 and
XFD1048576, asks for a grid of 17 billion cells (512 GiB); a 6 kB .xls whose DIMENSIONS
record claims 16 million rows asks for 152 GiB. So each bound below is checked here, on
the parts calamine will read and as calamine will read them, and a workbook beyond one
is refused with a message for the clerk (`Refused`, turned into a FileProblem).
"""

from __future__ import annotations

import copy
import re
import struct
import zipfile
import zlib
from collections.abc import Iterator
from functools import lru_cache
from itertools import chain
from typing import BinaryIO
from xml.parsers import expat

CHUNK = 1 << 20

MAX_XLSX_UNPACKED = 2 << 30  # 2 GiB of sheet XML is far beyond any county's workbook
MAX_XLSX_RATIO = 200  # real workbooks compress 5-20x; a zip bomb compresses 1000x
# The reader holds every shared string in memory at once. A county's 150,000-row 户籍
# workbook has about 20 MB of them; 64 MB is three times that.
MAX_SHARED_STRINGS = 64 << 20
# Calamine holds the whole first sheet in memory before the first row is read: 1.65-1.8 MB
# per MB of the sheet's XML (bench/reader_bench.py). This bound keeps a load near 700 MB
# and is well above a 500,000-row roll (162 MB of XML).
MAX_SHEET_XML = 400 << 20
# The grid calamine allocates for the first sheet: (last row) x (last column) cells,
# empty ones included, at 32 bytes a cell (measured: a sheet holding only A1 and T1000000,
# 20 million cells, peaks at 611 MB; A1 and CV1000000, 100 million, at 3.05 GB). 20
# million cells is 640 MB, the same budget as MAX_SHEET_XML, and a county roll is far
# inside it: 500,000 rows x 6 columns is 3 million; the widest roll Excel can hold at
# that budget, 1,048,576 rows x 19 columns, would be about 600 MB of XML and is refused
# by MAX_SHEET_XML first. A stray value far to the right or below the data counts too:
# that is the grid calamine would build.
MAX_SHEET_CELLS = 20_000_000
# An .xls (Excel 97-2003) is read whole: calamine holds the file, its Workbook stream and
# every sheet's cells. The format stops at 65,536 rows; a full 65,536-row, 30-column roll
# is 28 MiB and peaks at 261 MB in calamine. 64 MiB leaves room for wide sheets and keeps
# a load near the workbook budget above; anything larger is refused with the remedy.
MAX_XLS_BYTES = 64 << 20
# workbook.xml and the relationship parts are read whole here to find the first sheet; in
# a real workbook they are a few kB.
MAX_PART_XML = 16 << 20
# The fast scan cuts the sheet XML at tag starts; a stretch without one longer than this
# is not a cell value (Excel holds at most 32,767 characters in a cell), so the sheet is
# read by the exact scan instead.
MAX_TEXT_RUN = 4 << 20


class Refused(Exception):
    """The workbook is refused before calamine reads it; worded for the county clerk."""


def _unreadable(kind: str) -> Refused:
    return Refused(f"不是有效的 Excel 工作簿 / not a readable {kind} workbook")


def _sheet_too_large(size: int) -> Refused:
    return Refused(
        f"Excel 工作表过大（解压后 {size >> 20} MB，上限 {MAX_SHEET_XML >> 20} MB），请拆分为多个文件或导出为 CSV / "
        f"a sheet unpacks to {size >> 20} MB (limit {MAX_SHEET_XML >> 20} MB): split it or export it as CSV"
    )


def _too_many_cells(rows: int, cols: int) -> Refused:
    return Refused(
        f"Excel 工作表的范围过大（{rows:,} 行 × {cols:,} 列，上限 {MAX_SHEET_CELLS:,} 个单元格），"
        "可能有远离数据的单元格；请删除多余的行列后另存，或导出为 CSV / "
        f"the sheet spans {rows:,} rows x {cols:,} columns (limit {MAX_SHEET_CELLS:,} cells), perhaps a stray "
        "cell far from the data: delete the extra rows and columns and save again, or export it as CSV"
    )


# --- XLSX -----------------------------------------------------------------------------


def check_xlsx(fh: BinaryIO) -> None:
    """Refuse zip bombs, oversized parts and oversized grids, before anything inflates
    in calamine. The first sheet is found as calamine finds it (_rels/.rels, then the
    workbook's first <sheet> and its relationship), whatever its part is called."""
    try:
        archive = zipfile.ZipFile(fh)
    except (zipfile.BadZipFile, OSError, ValueError, EOFError) as exc:
        raise Refused(f"不是有效的 Excel 工作簿 / not a readable XLSX workbook ({type(exc).__name__})") from exc
    with archive:
        members = archive.infolist()
        unpacked = sum(m.file_size for m in members)
        packed = sum(m.compress_size for m in members) or 1
        if unpacked > MAX_XLSX_UNPACKED or (unpacked > 50 << 20 and unpacked / packed > MAX_XLSX_RATIO):
            raise Refused(
                f"Excel 文件解压后异常巨大（{unpacked >> 20} MB），疑似损坏或恶意文件 / "
                f"workbook would unpack to {unpacked >> 20} MB: refused as corrupt or malicious"
            )
        shared = sum(m.file_size for m in members if m.filename.lower().endswith("sharedstrings.xml"))
        if shared > MAX_SHARED_STRINGS:
            raise _too_many_strings(shared)
        parts: dict[str, zipfile.ZipInfo] = {}
        for member in members:
            key = _part_key(member.filename)
            if key in parts:  # which one a reader takes is the reader's choice: refuse the ambiguity
                raise _unreadable("XLSX")
            parts[key] = member
        xl_path, sheet = _first_sheet(archive, parts)
        strings = parts.get(_part_key(f"{xl_path}sharedStrings.xml"))
        if strings is not None:
            # The zip directory's sizes are the sender's word; count what really inflates.
            for _ in _inflate(archive, strings, MAX_SHARED_STRINGS, _too_many_strings):
                pass
        if sheet is None:
            return  # no first sheet: calamine finds nothing to read and says so
        if sheet.file_size > MAX_SHEET_XML:
            raise _sheet_too_large(sheet.file_size)
        rows, cols = sheet_extent(archive, sheet)
        if rows * cols > MAX_SHEET_CELLS:
            raise _too_many_cells(rows, cols)


def _too_many_strings(size: int) -> Refused:
    return Refused(
        f"Excel 文件的文本表过大（{size >> 20} MB，上限 {MAX_SHARED_STRINGS >> 20} MB），请拆分为多个文件 / "
        f"the workbook's shared strings unpack to {size >> 20} MB (limit {MAX_SHARED_STRINGS >> 20} MB): "
        "split it into several files"
    )


_ASCII_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")


def _part_key(name: str) -> str:
    """How calamine looks a part up: backslashes as slashes, ASCII letters in any case."""
    return name.replace("\\", "/").translate(_ASCII_LOWER)


def _inflate(archive: zipfile.ZipFile, info: zipfile.ZipInfo, limit: int, too_large) -> Iterator[bytes]:
    """A part's bytes as they really inflate - to the end of the compressed stream,
    whatever size the zip directory declares (the sender's word; Python's reader would
    stop there) - refused past `limit`."""
    unbounded = copy.copy(info)
    unbounded.file_size = 1 << 62
    total = 0
    try:
        with archive.open(unbounded) as part:
            while chunk := part.read(CHUNK):
                total += len(chunk)
                if total > limit:
                    raise too_large(total)
                yield chunk
    except (zipfile.BadZipFile, zlib.error, EOFError, OSError, NotImplementedError, RuntimeError, ValueError) as exc:
        raise _unreadable("XLSX") from exc


def _read_part(archive: zipfile.ZipFile, info: zipfile.ZipInfo) -> bytes:
    def too_large(_size: int) -> Refused:
        return _unreadable("XLSX")

    return b"".join(_inflate(archive, info, MAX_PART_XML, too_large))


# quick-xml, calamine's parser, reads a comment or a CDATA section as such, never as tags
# (generators do write comments: "<!--Generated by ...-->"), so they are taken out before
# tags are looked for. A document type declaration has no place in a workbook: refused.
_COMMENTS = re.compile(rb"<!--.*?-->|<!\[CDATA\[.*?\]\]>", re.DOTALL)


def _tags(xml: bytes, local: bytes) -> Iterator[list[tuple[bytes, bytes]]]:
    """The raw attributes of each start tag whose local name is `local`, in order."""
    xml = _COMMENTS.sub(b"", xml)
    if b"<!DOCTYPE" in xml or b"<!ENTITY" in xml or b"<!--" in xml or b"<![CDATA[" in xml:
        raise _unreadable("XLSX")
    pattern = re.compile(rb"<(?:[^\s/<>:!?]+:)?" + re.escape(local) + rb"(?=[\s/>])((?:[^>\"']|\"[^\"]*\"|'[^']*')*)>")
    for match in pattern.finditer(xml):
        attrs = _raw_attributes(match.group(1))
        if len({key for key, _ in attrs}) != len(attrs):
            raise _unreadable("XLSX")  # a repeated attribute: which one counts is the reader's choice
        yield attrs


def _raw_attributes(raw: bytes) -> list[tuple[bytes, bytes]]:
    """calamine's RawAttrIter: a key runs to '=' (trailing blanks trimmed), a value is
    quoted and kept raw (entities not decoded)."""
    attrs = []
    pos, end = 0, len(raw.rstrip(b"/ \t\r\n"))
    while pos < end:
        while pos < end and raw[pos] in b" \t\r\n":
            pos += 1
        if pos >= end:
            break
        eq = raw.find(b"=", pos)
        if eq < 0:
            raise _unreadable("XLSX")
        key = raw[pos:eq].rstrip(b" \t\r\n")
        pos = eq + 1
        while pos < len(raw) and raw[pos] in b" \t\r\n":
            pos += 1
        if pos >= len(raw) or raw[pos] not in b"\"'":
            raise _unreadable("XLSX")
        close = raw.find(raw[pos : pos + 1], pos + 1)
        if close < 0:
            raise _unreadable("XLSX")
        attrs.append((key, raw[pos + 1 : close]))
        pos = close + 1
    return attrs


def _unescape(value: bytes) -> str:
    text = value.decode("utf-8", "replace")
    if "&" not in text:
        return text

    # As quick_xml::escape::unescape: the five predefined entities and character references.
    def one(match: re.Match) -> str:
        name = match.group(1)
        named = {"lt": "<", "gt": ">", "amp": "&", "apos": "'", "quot": '"'}
        if name in named:
            return named[name]
        try:
            return chr(int(name[2:], 16) if name[:2] == "#x" else int(name[1:])) if name[:1] == "#" else ""
        except (ValueError, OverflowError):
            return ""

    return re.sub(r"&([^;&]{1,16});", one, text)


def _first_sheet(archive: zipfile.ZipFile, parts: dict[str, zipfile.ZipInfo]) -> tuple[str, zipfile.ZipInfo | None]:
    """(the workbook folder, the first sheet's part) as calamine resolves them."""
    package = parts.get(_part_key("_rels/.rels"))
    if package is None:
        raise _unreadable("XLSX")
    documents = [
        attrs
        for attrs in map(dict, _tags(_read_part(archive, package), b"Relationship"))
        if attrs.get(b"Type", b"").endswith(b"/relationships/officeDocument") and b"Target" in attrs
    ]
    if len(documents) != 1:
        raise _unreadable("XLSX")
    target = _unescape(documents[0][b"Target"])
    xl_path = target[: target.rfind("/") + 1].removeprefix("/") if "/" in target else ""
    rels = parts.get(_part_key(f"{xl_path}_rels/workbook.xml.rels"))
    workbook = parts.get(_part_key(f"{xl_path}workbook.xml"))
    if rels is None:
        raise _unreadable("XLSX")
    if workbook is None:
        return xl_path, None
    relationships: dict[bytes, tuple[str, bytes]] = {}
    for attrs in _tags(_read_part(archive, rels), b"Relationship"):
        found = dict(attrs)
        if b"Id" in found:
            if found[b"Id"] in relationships:
                raise _unreadable("XLSX")
            relationships[found[b"Id"]] = (_unescape(found.get(b"Target", b"")), found.get(b"Type", b""))
    first = next(_tags(_read_part(archive, workbook), b"sheet"), None)
    if first is None:
        return xl_path, None
    rel_id = None
    for key, value in first:  # calamine takes the last attribute named id, whatever its prefix
        if key == b"id" or key.endswith(b":id"):
            rel_id = value
    if rel_id not in relationships:
        raise _unreadable("XLSX")
    target, _ = relationships[rel_id]
    path = target[1:] if target.startswith("/") else f"{xl_path}{target}"
    if "\\" in path:
        return xl_path, next((m for m in parts.values() if m.filename == path), None)
    return xl_path, parts.get(_part_key(path))


def sheet_extent(archive: zipfile.ZipFile, info: zipfile.ZipInfo) -> tuple[int, int]:
    """(last row, last column), 1-based, of the cells calamine would place from this
    sheet part: the grid it allocates is at most their product. The actual inflated
    size is held to MAX_SHEET_XML on the way."""
    extent = _fast_extent(archive, info)
    return extent if extent is not None else _exact_extent(archive, info)


# The fast scan. Nearly every writer (Excel, WPS, openpyxl, xlsxwriter, LibreOffice)
# starts each cell tag with its reference: <c r="B12" ...>. When every cell opening in
# the sheet has that form, every cell has an explicit position, and the position
# calamine uses is the value of an `r` attribute - so the largest row and column over
# every `r="<letters><digits>"` in the bytes bound the grid, whatever the tags around
# them say (a second r, quotes holding '>', comments). Calamine leaves empty cells out of
# its grid, and some writers format whole rows out to XFD1048576 with them
# (<c r="XFD1048576" s="0"/>): a cell tag of that plain self-closing form is not counted.
# Anything else - a cell without a reference, a prefixed <x:c>, a NUL - is left to the
# exact scan below.
# Measured on a 100,000-row, 6-column openpyxl 户籍 workbook (33 MB of sheet XML, 2 cores
# shared): the fast scan takes 0.22 s, inflating included (0.05 s of it), where calamine
# reads the sheet in 0.48 s; the file's whole load went from 2.76 s to 3.10 s (median of
# five), the per-row control-character check included. The exact scan would take 1.3 s.
_CELL_OTHERWISE = re.compile(rb'<c(?! r=")[\s/>]')  # a cell opening not followed by its reference
_CELL_PREFIXED = re.compile(rb":c[\s/>]")
_LAST_CELL = re.compile(rb'<c r="([A-Za-z]{1,3})([0-9]{1,7})"')
_ANY_REF = re.compile(rb"r\s*=\s*([\"'])([A-Za-z]+)([0-9]+)\1")
# An empty cell, unmistakably: its reference first, then only short plain attributes (no
# second r), closed at once ("/>" or "></c>"). Calamine reads it as empty and leaves it
# out of the grid.
_EMPTY_CELL = re.compile(rb'<c r="[A-Za-z]{1,3}[0-9]{1,7}"(?: (?!r=)[a-z]{1,2}="[^"<>]{0,16}")*(?:/>|></c>)')


def column_number(letters: bytes | str) -> int:
    """A1-style column letters as a 1-based number, either case (as calamine reads them)."""
    number = 0
    for ch in letters.upper() if isinstance(letters, str) else letters.decode("ascii").upper():
        number = number * 26 + ord(ch) - 64
    return number


def _column_letters(number: int) -> str:
    letters = ""
    while number:
        number, rest = divmod(number - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def _greater_digits(value: int) -> str:
    """A pattern for digit strings whose number exceeds `value` (leading zeros: longer)."""
    if value <= 0:
        return "[0-9]+"
    text = str(value)
    alternatives = [f"[0-9]{{{len(text) + 1},}}"]
    for i, ch in enumerate(text):
        if ch != "9":
            rest = len(text) - i - 1
            alternatives.append(text[:i] + f"[{int(ch) + 1}-9]" + (f"[0-9]{{{rest}}}" if rest else ""))
    return "(?:" + "|".join(alternatives) + ")"


def _greater_letters(value: int) -> str:
    """A pattern for column letters (either case) whose number exceeds `value`."""
    if value <= 0:
        return "[A-Za-z]+"
    text = _column_letters(value)
    alternatives = [f"[A-Za-z]{{{len(text) + 1},}}"]
    for i, ch in enumerate(text):
        if ch != "Z":
            rest = len(text) - i - 1
            above = chr(ord(ch) + 1)
            prefix = "".join(f"[{c}{c.lower()}]" for c in text[:i])
            alternatives.append(prefix + f"[{above}-Z{above.lower()}-z]" + (f"[A-Za-z]{{{rest}}}" if rest else ""))
    return "(?:" + "|".join(alternatives) + ")"


@lru_cache(maxsize=64)
def _beyond(rows: int, cols: int) -> re.Pattern[bytes]:
    """Any reference with a row after `rows` or a column after `cols`."""
    value = f"(?:{_greater_letters(cols)}[0-9]+|[A-Za-z]+{_greater_digits(rows)})".encode()
    return re.compile(rb"r\s*=\s*([\"'])" + value + rb"\1")


def _fast_extent(archive: zipfile.ZipFile, info: zipfile.ZipInfo) -> tuple[int, int] | None:
    rows = cols = 0
    carry = b""
    for chunk in chain(_inflate(archive, info, MAX_SHEET_XML, _sheet_too_large), [b""]):
        data = carry + chunk
        if chunk:
            # Cut before the last tag start: a reference never spans one, so none is split.
            cut = data.rfind(b"<")
            if cut <= 0:
                if len(data) > MAX_TEXT_RUN:
                    return None
                carry = data
                continue
            region, carry = data[:cut], data[cut:]
            if len(carry) > MAX_TEXT_RUN:
                return None
        else:
            region, carry = data, b""
        if b"\0" in region or _CELL_OTHERWISE.search(region) or _CELL_PREFIXED.search(region):
            return None
        last = region.rfind(b'<c r="')
        if last >= 0 and (head := _LAST_CELL.match(region, last)) and not _EMPTY_CELL.match(region, last):
            rows = max(rows, int(head.group(2)))  # rows mostly ascend: the last one is usually the largest
        if _beyond(rows, cols).search(region):
            for _, letters, digits in _ANY_REF.findall(_EMPTY_CELL.sub(b"", region)):
                rows, cols = max(rows, int(digits)), max(cols, column_number(letters))
    return rows, cols


def _cell_position(ref: str, column_required: bool) -> tuple[int, int]:
    """calamine's get_row_and_optional_column: letters, then digits; 1-based (row, column)."""
    match = re.fullmatch(r"([A-Za-z]*)([0-9]+)", ref)
    if match is None or (column_required and not match.group(1)) or int(match.group(2)) < 1:
        raise _unreadable("XLSX")  # calamine stops on it too, before building the grid
    return int(match.group(2)), column_number(match.group(1))


class _Extent:
    """calamine's cell positions, event by event: a cell with a reference is placed by it;
    one without is placed after the previous cell of its row; a row without a reference
    follows the previous row; a cell with no element inside (no value) is left out of the
    grid. Only the first <sheetData> counts, as in calamine."""

    def __init__(self) -> None:
        self.active = self.done = False
        self.row = self.col = 0  # 0-based, as calamine counts
        self.rows = self.cols = 0  # 1-based extent
        self.in_cell = 0
        self.cell: tuple[int, int] | None = None  # the open cell's position, until it shows a value

    def start(self, name: str, attrs: dict[str, str]) -> None:
        local = name.split(":", 1)[-1]
        if self.done:
            return
        if not self.active:
            self.active = local == "sheetData"
            return
        if self.in_cell:
            if local in ("c", "row"):
                raise _unreadable("XLSX")  # a cell inside a cell: calamine would read it otherwise
            self.in_cell += 1
            if self.cell is not None:  # a value: calamine keeps the cell
                self.rows, self.cols = max(self.rows, self.cell[0] + 1), max(self.cols, self.cell[1] + 1)
                self.cell = None
            return
        if local == "row" and "r" in attrs:
            self.row = _cell_position(attrs["r"], column_required=False)[0] - 1
        elif local == "c":
            if "r" in attrs:
                row, col = _cell_position(attrs["r"], column_required=True)
                row, col = row - 1, col - 1
                self.col = col
            else:
                row, col = self.row, self.col
            self.cell = (row, col)  # counted once it holds an element (a value): calamine skips empty cells
            self.col += 1
            self.in_cell = 1

    def end(self, name: str) -> None:
        local = name.split(":", 1)[-1]
        if self.done or not self.active:
            return
        if self.in_cell:
            self.in_cell -= 1
            if not self.in_cell:
                self.cell = None
        elif local == "row":
            self.row, self.col = self.row + 1, 0
        elif local == "sheetData":
            self.done = True


def _exact_extent(archive: zipfile.ZipFile, info: zipfile.ZipInfo) -> tuple[int, int]:
    """Every cell through a real XML parser (expat): about as slow as calamine itself,
    so only for sheets the fast scan cannot vouch for."""
    extent = _Extent()
    parser = expat.ParserCreate()
    parser.StartElementHandler = extent.start
    parser.EndElementHandler = extent.end

    def no_doctype(*_args) -> None:
        raise _unreadable("XLSX")

    parser.StartDoctypeDeclHandler = no_doctype
    try:
        for chunk in _inflate(archive, info, MAX_SHEET_XML, _sheet_too_large):
            parser.Parse(chunk, False)
        parser.Parse(b"", True)
    except expat.ExpatError as exc:
        raise _unreadable("XLSX") from exc
    return extent.rows, extent.cols


# --- XLS ------------------------------------------------------------------------------
# calamine reads the compound file (OLE2) and every sheet of the Workbook stream when the
# workbook opens. Its compound-file reader follows sector chains without a cycle check
# (a loop grows a buffer until memory runs out) and reserves, for each sheet, as many
# cells as the sheet's DIMENSIONS record claims. So the container is walked here with
# every chain checked, and each sheet's DIMENSIONS and cell records are bounded.

_OLE2 = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_END_OF_CHAIN = 0xFFFFFFFE
_RESERVED = 0xFFFFFFFA
_DIFAT_SECTOR = 0xFFFFFFFC
# Cell records: row and column are the first two 16-bit fields.
_CELL_RECORDS = {0x0203, 0x0204, 0x00D6, 0x0205, 0x027E, 0x00FD, 0x0006}
_MULRK, _DIMENSIONS, _BOF, _EOF, _BOUNDSHEET, _FILEPASS = 0x00BD, 0x0200, 0x0809, 0x000A, 0x0085, 0x002F


def _xls_too_large(size: int) -> Refused:
    return Refused(
        f"XLS 文件过大（{size >> 20} MB，上限 {MAX_XLS_BYTES >> 20} MB），请在 Excel 中另存为 .xlsx 或导出为 CSV / "
        f"the .xls file is {size >> 20} MB (limit {MAX_XLS_BYTES >> 20} MB): save it as .xlsx in Excel or export "
        "it as CSV"
    )


def check_xls(fh: BinaryIO) -> None:
    fh.seek(0, 2)
    size = fh.tell()
    if size > MAX_XLS_BYTES:
        raise _xls_too_large(size)
    fh.seek(0)
    data = fh.read()
    try:
        stream = _workbook_stream(data)
    except (IndexError, struct.error, ValueError) as exc:
        raise _unreadable("XLS") from exc
    for rows, cols in _xls_sheet_extents(stream):
        if rows * cols > MAX_SHEET_CELLS:
            raise _too_many_cells(rows, cols)


def _u32s(data: bytes) -> list[int]:
    return list(struct.unpack(f"<{len(data) // 4}I", data[: len(data) // 4 * 4]))


def _workbook_stream(data: bytes) -> bytes:
    """The Workbook stream as calamine's compound-file reader assembles it; refused
    where that reader would loop, index out of bounds or read past the file."""
    if len(data) < 512 or data[:8] != _OLE2:
        raise _unreadable("XLS")
    shift, mini_shift = struct.unpack_from("<HH", data, 30)
    if shift not in (9, 12) or mini_shift != 6:
        raise _unreadable("XLS")
    size = 1 << shift
    body = data[size:]  # sectors follow the header sector

    def sector(i: int) -> bytes:
        if i * size >= len(body):
            raise _unreadable("XLS")
        return body[i * size : (i + 1) * size]

    dir_start, mini_fat_start, mini_fat_len, difat_start = struct.unpack_from("<I8xIII", data, 48)
    difat = _u32s(data[76:512])
    seen = set()
    link = difat_start
    while link < _RESERVED:  # the DIFAT chain: calamine follows it without a loop check
        if link in seen:
            raise _unreadable("XLS")
        seen.add(link)
        difat.extend(_u32s(sector(link)))
        link = difat.pop()
    fat: list[int] = []
    for i in difat:
        if i < _DIFAT_SECTOR:
            fat.extend(_u32s(sector(i)))
    directory = _chain(dir_start, fat, sector, None)
    entries = []
    for at in range(0, len(directory) - 127, 128):
        raw = directory[at : at + 128]
        name = raw[:64].decode("utf-16-le", "replace").split("\0", 1)[0]
        start = struct.unpack_from("<I", raw, 116)[0]
        length = struct.unpack_from("<Q" if shift == 12 else "<I", raw, 120)[0]
        entries.append((name, start, length))
    if not entries:
        raise _unreadable("XLS")
    ministream, minifat = b"", []
    if mini_fat_len:  # calamine assembles the mini stream whenever there is one
        ministream = _chain(entries[0][1], fat, sector, entries[0][2])
        minifat = _u32s(_chain(mini_fat_start, fat, sector, mini_fat_len * size))

    def mini(i: int) -> bytes:
        if i * 64 >= len(ministream):
            raise _unreadable("XLS")
        return ministream[i * 64 : (i + 1) * 64]

    for wanted in ("Workbook", "Book", "WORKBOOK", "BOOK"):
        found = next((e for e in entries if e[0] == wanted), None)
        if found is not None:
            _, start, length = found
            return _chain(start, minifat, mini, length) if length < 4096 else _chain(start, fat, sector, length)
    raise _unreadable("XLS")


def _chain(start: int, table: list[int], read, length: int | None) -> bytes:
    """A sector chain, up to `length` bytes (None: to its end); refused on a loop or a
    link past the allocation table, where calamine would loop or panic."""
    pieces, visited, link, total = [], set(), start, 0
    while link != _END_OF_CHAIN:
        if link in visited or link >= len(table):
            raise _unreadable("XLS")
        visited.add(link)
        piece = read(link)
        pieces.append(piece)
        total += len(piece)
        if length is not None and total >= length:
            break
        link = table[link]
    joined = b"".join(pieces)
    return joined if length is None else joined[:length]


_RECORD = struct.Struct("<HH")
_CELL = struct.Struct("<HHHH")  # record type, length, then a cell record's row and column


def _xls_sheet_extents(stream: bytes) -> Iterator[tuple[int, int]]:
    """For every sheet calamine builds: the cells each DIMENSIONS record makes it
    reserve, and the grid its cell records span (rows, columns). Records are read as
    calamine's RecordIter reads them (a CONTINUE record carries nothing read here)."""
    sheets = []
    pos, end = 0, len(stream)
    while pos < end:
        if end - pos < 4:
            raise _unreadable("XLS")
        typ, length = _RECORD.unpack_from(stream, pos)
        if pos + 4 + length > end:
            raise _unreadable("XLS")
        if typ == _BOUNDSHEET and length >= 4:
            sheets.append(struct.unpack_from("<I", stream, pos + 4)[0])
        elif typ == _FILEPASS and length >= 2 and struct.unpack_from("<H", stream, pos + 4)[0]:
            # Encrypted: calamine stops here, and so can the clerk's remedy.
            raise Refused(
                "工作簿设有密码保护，请去除密码后重新导出 / the workbook is password-protected: remove the password "
                "and export it again"
            )
        elif typ == _EOF:
            break
        pos += 4 + length
    for start in sheets:
        if start > end:
            raise _unreadable("XLS")
        yield from _xls_sheet(stream, start)


def _xls_sheet(stream: bytes, pos: int) -> Iterator[tuple[int, int]]:
    # One pass over every record of the sheet: a full 65,536-row, 30-column .xls (2 million
    # records) takes about 0.6 s here, against 0.5 s for calamine to read it.
    rows = cols = depth = 0
    seen_bof = False
    end = len(stream)
    cell_records, unpack = _CELL_RECORDS, _CELL.unpack_from
    while pos < end:
        if end - pos < 8:
            if end - pos < 4:
                raise _unreadable("XLS")
            (typ, length), row, col = _RECORD.unpack_from(stream, pos), 0, 0
        else:
            typ, length, row, col = unpack(stream, pos)
        data = pos + 4
        pos = data + length
        if pos > end:
            raise _unreadable("XLS")
        if depth:  # an embedded chart or macro sheet: calamine skips its records
            if typ == _BOF:
                depth += 1
            elif typ == _EOF:
                depth -= 1
        elif typ in cell_records:
            if length >= 4:
                if row >= rows:
                    rows = row + 1
                if col >= cols:
                    cols = col + 1
        elif typ == _MULRK:
            if length >= 6:
                rows, cols = max(rows, row + 1), max(cols, col + max((length - 6) // 6, 1))
        elif typ == _DIMENSIONS:
            yield _reserved(stream[data:pos])
        elif typ == _BOF:
            depth, seen_bof = (1 if seen_bof else 0), True
        elif typ == _EOF:
            break
    yield rows, cols


def _reserved(data: bytes) -> tuple[int, int]:
    """calamine's parse_dimensions and the reserve that follows it, in its u32 arithmetic."""
    if len(data) == 10:
        first_row, last_row, first_col, last_col = struct.unpack_from("<HHHH", data)
    elif len(data) == 14:
        first_row, last_row, first_col, last_col = struct.unpack_from("<IIHH", data)
    else:
        raise _unreadable("XLS")
    if first_col > 0xFF or last_col < first_col:
        first_col = 0
    if last_row >= 1 and last_col >= 1:
        end_row, end_col = last_row - 1, last_col - 1
    else:
        end_row, end_col = first_row, first_col
    rows = (end_row - first_row + 1) & 0xFFFFFFFF
    cols = (end_col - first_col + 1) & 0xFFFFFFFF
    return rows, cols
