"""The loader's bounds on hostile files (#26), without a database: what a workbook would
make calamine allocate, CSV records, control characters, files opened without following
links. The integration tests in tests/integration/test_ingest.py load the same files."""

from __future__ import annotations

import io
import json
import os
import struct
import subprocess
import sys
import zipfile
from pathlib import Path

import openpyxl
import pyarrow as pa
import pytest
import xlwt

from kcbx.ingest import fast, readers, workbooks
from kcbx.ingest.normalise import has_controls, strip_controls, without_controls
from kcbx.ingest.rows import REASON_LABELS
from tests.data.bad.corpus import (
    _minimal_xlsx,
    dimensions_xls,
    relocated_sheet_xlsx,
    relocated_sparse_xlsx,
    sparse_xlsx,
)

pytestmark = pytest.mark.unit

# The python-calamine release whose allocations kcbx/ingest/workbooks.py models (the grid
# its first sheet builds, what an .xls reserves, how it finds and names parts) and which
# the bounds there were measured against.
CALAMINE_VERIFIED = "0.9.1"


def check(content: bytes, kind: str = "xlsx") -> None:
    (workbooks.check_xlsx if kind == "xlsx" else workbooks.check_xls)(io.BytesIO(content))


def extent(content: bytes, part: str = "xl/worksheets/sheet1.xml", *, exact: bool = False) -> tuple[int, int]:
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        info = archive.getinfo(part)
        if exact:
            return workbooks._exact_extent(archive, info)
        return workbooks.sheet_extent(archive, info)


def calamine_extent(tmp_path: Path, content: bytes, suffix: str = "xlsx") -> tuple[int, int]:
    from python_calamine import CalamineWorkbook

    path = tmp_path / f"w.{suffix}"
    path.write_bytes(content)
    sheet = CalamineWorkbook.from_path(str(path)).get_sheet_by_index(0)
    return sheet.total_height + 1, sheet.total_width + 1  # its last row and column (0-based there)


def roll(rows: int = 50) -> bytes:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(["身份证号", "姓名", "性别", "出生日期", "户籍地区划代码", "人员状态"])
    for i in range(rows):
        sheet.append([f"41108220150307{i:04d}", f"姓名{i}", "男", "2015-03-07", 411082100201, "正常"])
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def test_python_calamine_is_the_release_the_bounds_were_verified_against():
    """workbooks.py re-implements calamine's allocation rules instead of calling it: a new
    release may size its grid or reserve memory otherwise, and a bound that no longer holds
    would not make any other test fail."""
    from importlib.metadata import version

    installed = version("python-calamine")
    assert installed == CALAMINE_VERIFIED, (
        f"python-calamine is {installed}, but kcbx/ingest/workbooks.py's bounds were verified against "
        f"{CALAMINE_VERIFIED}: re-verify kcbx/ingest/workbooks.py's model of calamine's allocations (the sheet "
        "grid, the .xls DIMENSIONS reserve, part lookup; bench/reader_bench.py and this module's calamine_extent "
        "tests) against the new release before raising the pin here and in pyproject.toml/constraints.txt"
    )


# --- XLSX: the first sheet, its size and its grid ---


def test_a_real_workbook_passes_and_both_scans_agree_with_calamine(tmp_path):
    content = roll()
    check(content)
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        assert workbooks._fast_extent(archive, archive.getinfo("xl/worksheets/sheet1.xml")) == (51, 6)
    assert extent(content) == extent(content, exact=True) == calamine_extent(tmp_path, content) == (51, 6)


def test_the_sparse_workbook_is_refused_before_calamine_reads_it():
    with pytest.raises(workbooks.Refused, match="1,048,576 行 × 16,384 列"):
        check(sparse_xlsx())


def test_cells_without_a_reference_are_placed_as_calamine_places_them(tmp_path):
    """No r attribute: a cell follows the previous one in its row; a row follows the last."""
    sheet = (
        '<row r="3"><c><v>1</v></c><c r="E3"><v>2</v></c><c><v>3</v></c></row>'
        "<row><c><v>4</v></c></row>"
        '<row r="9"><c/><c><v>5</v></c></row>'
    )
    content = _minimal_xlsx(sheet)
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        assert workbooks._fast_extent(archive, archive.getinfo("xl/worksheets/sheet1.xml")) is None
    assert extent(content) == (9, 6)  # the fast scan hands a sheet like this to the exact one
    assert calamine_extent(tmp_path, content) == (9, 6)


@pytest.mark.parametrize("empty", ['<c r="XFD1048576" s="0"/>', '<c r="XFD1048576" s="0"></c>', "<c/>" * 20_000])
def test_empty_cells_far_away_are_not_the_grid(tmp_path, empty):
    """Calamine leaves empty cells out; some writers format whole rows with them (Gnumeric
    wrote <c r="XFD1048576" s="0"/> out to the last cell)."""
    content = _minimal_xlsx(f'<row r="1"><c r="A1"><v>1</v></c></row><row r="1048576">{empty}</row>')
    check(content)
    assert extent(content) == calamine_extent(tmp_path, content) == (1, 1)


def test_positional_cells_far_down_are_counted():
    far = '<row r="1"><c r="A1"><v>1</v></c></row><row r="1048576">' + "<c><v>1</v></c>" * 30 + "</row>"
    with pytest.raises(workbooks.Refused, match="1,048,576 行 × 30 列"):
        check(_minimal_xlsx(far))


@pytest.mark.parametrize(
    "cell",
    [
        '<c r="A1" r="XFD1048576"><v>1</v></c>',  # a second reference: calamine may take the later one
        '<c r="A1" a=">" r="XFD1048576"><v>1</v></c>',  # a '>' inside quotes hides the rest of the tag
        '<x:c xmlns:x="urn:x" r="XFD1048576"><v>1</v></x:c>',  # a prefixed cell element
        '<c\tr="XFD1048576"><v>1</v></c>',  # a tab instead of a space
        '<c r="xfd1048576"><v>1</v></c>',  # lower-case letters (calamine reads them)
        "<c r='XFD1048576'><v>1</v></c>",  # single quotes
    ],
)
def test_references_in_any_form_calamine_reads_are_counted(cell):
    with pytest.raises(workbooks.Refused, match="单元格"):
        check(_minimal_xlsx(f'<row r="1"><c r="A1"><v>1</v></c>{cell}</row>'))


def test_an_empty_far_away_dimension_is_not_the_grid():
    """calamine sizes its grid by the cells, not the declared <dimension> (which Excel can
    leave stale after a deleted cell): a huge dimension over two cells is not refused."""
    content = _minimal_xlsx('<row r="1"><c r="A1"><v>1</v></c><c r="B1"><v>2</v></c></row>')
    with zipfile.ZipFile(io.BytesIO(content)) as source:
        parts = {i.filename: source.read(i) for i in source.infolist()}
    sheet = parts["xl/worksheets/sheet1.xml"]
    parts["xl/worksheets/sheet1.xml"] = sheet.replace(b"<sheetData>", b'<dimension ref="A1:XFD1048576"/><sheetData>')
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for name, body in parts.items():
            archive.writestr(name, body)
    check(out.getvalue())


def test_the_relocated_sheet_is_found_and_bounded(monkeypatch):
    content = relocated_sheet_xlsx()
    check(content)
    assert extent(content, "xl/data.xml") == (2, 5)
    monkeypatch.setattr(workbooks, "MAX_SHEET_XML", 512)
    with pytest.raises(workbooks.Refused, match="工作表过大"):
        check(content)


def test_the_grid_bound_follows_the_relocated_sheet():
    """The sparse sheet stored as xl/data.xml is refused as the sparse sheet is."""
    content = relocated_sparse_xlsx()
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        assert not any(name.startswith("xl/worksheets/") for name in archive.namelist())
    assert extent(content, "xl/data.xml") == extent(content, "xl/data.xml", exact=True) == (1_048_576, 16_384)
    with pytest.raises(workbooks.Refused, match="1,048,576 行 × 16,384 列"):
        check(content)


def test_the_bound_holds_when_the_zip_directory_understates_the_size(monkeypatch):
    """The directory's sizes are the sender's word: the scan counts what really inflates."""
    rows = "".join(f'<row r="{i}"><c r="A{i}"><v>{i}</v></c></row>' for i in range(1, 2000))
    content = bytearray(_minimal_xlsx(rows))
    with zipfile.ZipFile(io.BytesIO(bytes(content))) as archive:
        info = archive.getinfo("xl/worksheets/sheet1.xml")
    assert info.file_size > 40_000
    central = content.rfind(b"PK\x01\x02", 0, content.find(b"PK\x05\x06"))
    while content[central + 46 : central + 46 + len(info.filename)] != info.filename.encode():
        central = content.rfind(b"PK\x01\x02", 0, central)
    struct.pack_into("<I", content, central + 24, 100)  # "100 bytes unpacked"
    struct.pack_into("<I", content, info.header_offset + 22, 100)
    monkeypatch.setattr(workbooks, "MAX_SHEET_XML", 20_000)
    with pytest.raises(workbooks.Refused, match="工作表过大"):
        check(bytes(content))


def test_ambiguous_packages_are_refused():
    content = _minimal_xlsx('<row r="1"><c r="A1"><v>1</v></c></row>')
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(content)) as source, zipfile.ZipFile(out, "w") as archive:
        for info in source.infolist():
            archive.writestr(info.filename, source.read(info))
        archive.writestr("XL/Worksheets/Sheet1.xml", "<worksheet/>")  # the same part to calamine
    with pytest.raises(workbooks.Refused, match="not a readable XLSX"):
        check(out.getvalue())


# --- XLS: the compound file and every sheet's records ---


def small_xls() -> bytes:
    workbook = xlwt.Workbook(encoding="utf-8")
    sheet = workbook.add_sheet("S")
    for row in range(3):
        for col in range(4):
            sheet.write(row, col, f"值{row}{col}")
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def test_a_real_xls_passes(tmp_path):
    content = small_xls()
    check(content, "xls")
    assert calamine_extent(tmp_path, content, "xls") == (3, 4)


def test_a_dimensions_record_claiming_millions_of_rows_is_refused():
    with pytest.raises(workbooks.Refused, match="16,000,000 行 × 255 列"):
        check(dimensions_xls(), "xls")


def test_dimensions_are_read_in_calamines_arithmetic():
    assert workbooks._reserved(struct.pack("<IIHHH", 0, 3, 0, 4, 0)) == (3, 4)
    # A last row before the first: calamine's u32 subtraction wraps to 4 billion rows.
    assert workbooks._reserved(struct.pack("<IIHHH", 10, 5, 0, 4, 0))[0] == (4 - 10 + 1) & 0xFFFFFFFF


def test_a_loop_in_the_compound_files_directory_chain_is_refused():
    """calamine follows the chain without a loop check and grows its buffer forever."""
    data = bytearray(small_xls())
    size = 1 << struct.unpack_from("<H", data, 30)[0]
    dir_start = struct.unpack_from("<I", data, 48)[0]
    fat_sector = struct.unpack_from("<I", data, 76)[0]
    struct.pack_into("<I", data, size + fat_sector * size + dir_start * 4, dir_start)  # the sector links to itself
    with pytest.raises(workbooks.Refused, match="not a readable XLS"):
        check(bytes(data), "xls")


def test_an_xls_above_its_size_bound_is_refused(monkeypatch):
    monkeypatch.setattr(workbooks, "MAX_XLS_BYTES", 1024)
    with pytest.raises(workbooks.Refused, match=r"\.xlsx"):
        check(small_xls(), "xls")


def test_a_rust_panic_from_calamine_is_a_file_problem_but_an_interrupt_is_not():
    class PanicException(BaseException):  # pyo3's, as python-calamine raises it
        pass

    assert readers._calamine_failed(PanicException("index out of bounds"))
    assert readers._calamine_failed(ValueError("broken"))
    assert not readers._calamine_failed(KeyboardInterrupt())


# --- Opening delivered files: never through a link (O_NOFOLLOW) ---


def test_a_symbolic_link_is_refused_not_followed(tmp_path):
    secret = tmp_path / "secret.csv"
    secret.write_text("身份证号\n411082201503070011\n", encoding="utf-8")
    link = tmp_path / "delivered.csv"
    link.symlink_to(secret)
    with pytest.raises(readers.FileProblem, match="符号链接"):
        readers.open_delivered(link)
    first = readers.fingerprint(link)
    secret.write_text("changed", encoding="utf-8")
    assert readers.fingerprint(link) == first  # not read: the link, not its target, is printed


def test_only_regular_files_within_the_size_bound_are_opened(tmp_path, monkeypatch):
    fifo = tmp_path / "pipe.csv"
    os.mkfifo(fifo)
    with pytest.raises(readers.FileProblem, match="不是普通文件"):
        readers.open_delivered(fifo)  # O_NONBLOCK: no writer, and still no hang
    regular = tmp_path / "a.csv"
    regular.write_bytes(b"x" * 100)
    with readers.open_delivered(regular) as fh:
        assert fh.read() == b"x" * 100
    monkeypatch.setattr(readers, "MAX_FILE_BYTES", 99)
    with pytest.raises(readers.FileProblem, match="文件过大"):
        readers.open_delivered(regular)


def test_calamine_reads_the_file_that_was_opened_even_if_its_name_is_swapped(tmp_path):
    from python_calamine import CalamineWorkbook

    delivered, other = tmp_path / "d.xlsx", tmp_path / "other.xlsx"
    delivered.write_bytes(roll(3))
    other.write_bytes(roll(9))
    with readers.open_delivered(delivered) as fh, readers._same_file(fh, "xlsx") as same:
        os.replace(other, delivered)  # swapped after it was opened
        assert CalamineWorkbook.from_path(same).get_sheet_by_index(0).total_height == 3  # the first file's 4 rows


# --- CSV records ---


def test_a_20_mb_line_of_commas_is_read_in_bounded_memory(tmp_path):
    """Measured in a child process: 181 MB over the interpreter before the bounds, 3 MB after."""
    path = tmp_path / "commas.csv"
    path.write_bytes("学校标识码,日期,全国学籍号,班级,出勤状态\n".encode() + b"," * (20 << 20) + b"\n")
    child = (
        "import resource, sys\n"
        "from pathlib import Path\n"
        "from kcbx.feeds import feed\n"
        "from kcbx.ingest.readers import OversizedRow, open_table\n"
        "base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss\n"
        "with open_table(Path(sys.argv[1]), feed('kaoqin'), 'utf-8') as table:\n"
        "    rows = [isinstance(cells, OversizedRow) for _, cells in table.rows]\n"
        "print(rows, (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - base) // 1024)\n"
    )
    out = subprocess.run([sys.executable, "-c", child, str(path)], capture_output=True, text=True, check=True)
    rows, peak_mb = out.stdout.rsplit(" ", 1)
    assert rows == "[True]" and int(peak_mb) < 32


def test_row_too_large_is_a_declared_reason():
    assert " / " in REASON_LABELS["row_too_large"]


# --- Control characters ---


def test_control_characters_go_and_tab_newline_and_return_stay():
    assert strip_controls("张\x00\x01三\x1f\x7f") == "张三"
    assert strip_controls("一行\n二行\t\r") == "一行\n二行\t\r"
    assert has_controls("a\x0bb") and not has_controls("a\tb\n")
    assert without_controls(42) == 42 and without_controls("\x02") == ""


def test_the_fast_path_removes_them_as_python_does():
    values = ["张\x01三", "clean", None, "\x02", "tab\tkept", "\x00\x00 x"]
    cleaned, held = fast._without_controls(pa.array(values, pa.string()))
    expected = [None if v is None else (strip_controls(v) or None) for v in values]
    assert cleaned.to_pylist() == expected
    assert held.to_pylist() == [True, False, False, True, False, True]
    untouched = pa.array(["clean", None], pa.string())
    assert fast._without_controls(untouched) == (untouched, None)


def test_rejected_rows_are_stored_without_control_characters():
    from kcbx.ingest.writers import RejectSpool

    spool = RejectSpool(load_id=1)
    spool.add(2, "bad_code", "出勤状态", {"出勤\x00状态": "出\x00勤", "班级": 3})
    spool._file.seek(0)
    stored = spool._file.read()
    assert "\x00" not in stored
    assert json.loads(next(iter(__import__("csv").reader([stored])))[5]) == {"出勤状态": "出勤", "班级": "3"}
