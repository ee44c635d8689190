"""kcbx.ingest.readers: every form a department delivers (CSV in UTF-8, UTF-8 with BOM or
GB18030, XLSX, XLS) read as one table below its title rows, rows numbered as Excel shows
them, and the whole-file problems a clerk is told about. The fixtures are written at
test time by the messy writer (kcbx.synth.messy.write_file), as a county run writes them;
tests/unit/test_ingest_bounds.py holds the hostile-size bounds."""

from __future__ import annotations

import codecs
import hashlib
from datetime import date

import pytest

from kcbx.feeds import feed
from kcbx.ingest import readers
from kcbx.ingest.readers import FileProblem, OversizedRow, fingerprint, open_table
from kcbx.ingest.rows import normalise_row
from kcbx.synth.messy import FORMS, write_file

pytestmark = pytest.mark.unit

HUJI = feed("huji")
KAOQIN = feed("kaoqin")
HEADER = [" 公民身份号码 ", "姓名", "性别", "出生年月日", "户籍地区划代码", "人员状态", "备用"]
PREAMBLE = [["长川市城关镇花名册"], ["填报单位：城关镇派出所"], []]
ROWS = [
    ["411082201503071234", "张三", "男", date(2015, 3, 7), 411082100201, "正常", "备用值"],
    [],
    ["合计", "1人"],
]
KAOQIN_HEADER = ["学校代码", "日期", "学籍号", "班级", "出勤状态"]


def kaoqin_csv(tmp_path, lines: list[str], name: str = "k.csv"):
    path = tmp_path / name
    path.write_text("".join(f"{line}\n" for line in lines), encoding="utf-8")
    return path


@pytest.mark.parametrize("form", FORMS)
def test_every_form_reads_as_one_table_below_its_title(tmp_path, form):
    path = write_file(tmp_path / "huji", form, HEADER, ROWS, PREAMBLE)
    workbook = form in ("xlsx", "xls")
    with open_table(path, HUJI) as table:
        assert table.encoding == form
        assert table.header == ["公民身份号码", "姓名", "性别", "出生年月日", "户籍地区划代码", "人员状态", "备用"]
        assert table.header_row == table.header_lines == 4
        assert [[c for c in row if c] for row in table.preamble] == [
            ["长川市城关镇花名册"],
            ["填报单位：城关镇派出所"],
            [],
        ]
        assert table.match.known == {
            0: "id_number",
            1: "name",
            2: "sex",
            3: "birth_date",
            4: "hukou_region_code",
            5: "person_status",
        }
        assert table.match.extra == {6: "备用"} and table.match.missing == []
        rows = list(table.rows)
    assert [number for number, _ in rows] == [5, 6, 7]
    first = rows[0][1]
    if workbook:  # Excel's own cells: a date cell and a number cell
        assert first == ["411082201503071234", "张三", "男", date(2015, 3, 7), 411082100201.0, "正常", "备用值"]
        assert rows[1][1] == [""] * 7 and rows[2][1] == ["合计", "1人", "", "", "", "", ""]
    else:
        assert first == ["411082201503071234", "张三", "男", "2015-03-07", "411082100201", "正常", "备用值"]
        assert rows[1][1] == [] and rows[2][1] == ["合计", "1人"]
    # Whatever the form, the row normalises to the same values.
    cells = {col: first[i] for i, col in table.match.known.items()}
    result = normalise_row(HUJI, cells, date(2026, 1, 1))
    assert result.reason is None and result.id_conflict is None
    assert result.values[:6] == ["411082201503071234", "张三", "男", "2015-03-07", "411082100201", "正常"]


@pytest.mark.parametrize(("form", "encoding"), [("utf-8", "utf-8"), ("utf-8-sig", "utf-8-sig"), ("gb18030", "gb18030")])
def test_fingerprint_names_the_encoding_and_hashes_the_bytes(tmp_path, form, encoding):
    path = write_file(tmp_path / "h", form, HEADER, [["𠀀明", "龘"]])  # beyond GBK: GB18030 holds both
    assert fingerprint(path) == (hashlib.sha256(path.read_bytes()).hexdigest(), encoding)
    with open_table(path, HUJI) as table:
        assert [cells for _, cells in table.rows] == [["𠀀明", "龘"]]


def test_the_encoding_is_judged_across_read_chunks(tmp_path):
    path = tmp_path / "split.csv"
    path.write_bytes(b"a" * (readers.CHUNK - 1) + "张".encode())  # 张's three bytes straddle the first chunk
    assert fingerprint(path)[1] == "utf-8"
    path.write_bytes(b"a" * (readers.CHUNK + 10) + "张".encode("gb18030"))  # invalid UTF-8 only in the second chunk
    assert fingerprint(path)[1] == "gb18030"
    path.write_bytes(b"a" * 10 + "张".encode()[:2])  # a sequence cut off at the end of the file
    assert fingerprint(path)[1] == "gb18030"
    path.write_bytes(b"a" * readers.CHUNK + codecs.BOM_UTF8 + b"a")  # a BOM is one only at the start
    assert fingerprint(path)[1] == "utf-8"


def test_a_title_over_two_lines_is_one_row_but_two_lines_for_arrow(tmp_path):
    path = write_file(
        tmp_path / "k",
        "utf-8",
        KAOQIN_HEADER,
        [["2141082001", "2025-09-01", "G1", "", "出勤"]],
        [["长川市\n考勤表"], []],
    )
    with open_table(path, KAOQIN) as table:
        assert (table.header_row, table.header_lines) == (3, 4)  # the fast path skips 4 physical lines
        assert [number for number, _ in table.rows] == [4]
        assert table.done() == 1.0


def test_a_file_missing_a_required_column_is_a_table_with_the_closest_row(tmp_path):
    path = write_file(
        tmp_path / "k", "xlsx", ["学校代码", "日期", "班级"], [["2141082001", "2025-09-01", "一班"]], [["标题"]]
    )
    with open_table(path, KAOQIN) as table:
        assert table.header_row == 2 and table.match.missing == ["全国学籍号", "出勤状态"]
        assert table.match.known == {0: "school_code", 1: "day", 2: "class_name"}
        assert [number for number, _ in table.rows] == [3]


def test_workbooks_are_read_as_what_their_bytes_are(tmp_path):
    xlsx = write_file(tmp_path / "real", "xlsx", KAOQIN_HEADER, [["2141082001", "2025-09-01", "G1", "", "出勤"]])
    xls = write_file(tmp_path / "real", "xls", KAOQIN_HEADER, [["2141082001", "2025-09-01", "G1", "", "出勤"]])
    named_xls, named_xlsx = tmp_path / "named.xls", tmp_path / "named.xlsx"
    named_xls.write_bytes(xlsx.read_bytes())
    named_xlsx.write_bytes(xls.read_bytes())
    for path, kind in ((named_xls, "xlsx"), (named_xlsx, "xls")):
        with open_table(path, KAOQIN) as table:
            assert table.encoding == kind
            assert [cells for _, cells in table.rows] == [["2141082001", "2025-09-01", "G1", "", "出勤"]]


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("page.xls", b" <html><table><tr><td>1</td></tr></table></html>", "实为网页或 XML 表格"),
        ("empty.xlsx", b"", "文件为空 / the file is empty"),
        ("broken.xlsx", b"PK\x03\x04 not a zip", "不是有效的 Excel 工作簿 / not a readable XLSX workbook (BadZipFile)"),
        (
            "junk.xls",
            b"\x00\x01\x02\x03\x04\x05\x06\x07",
            "不是有效的 Excel 工作簿 / not a readable XLSX or XLS workbook",
        ),
        ("roll.txt", "学校代码\n".encode(), "不支持的文件类型 .txt"),
        ("roll.csv", b"\xff\xfe\xff\x00,\n", "文件编码无法识别"),  # neither UTF-8 nor GB18030
        ("blank.csv", b"\n,,\n\r\n , \n", "文件为空（前 10 行没有内容）"),
    ],
)
def test_whole_file_problems_are_told_in_the_clerks_words(tmp_path, name, content, message):
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(FileProblem, match=message.replace("(", r"\(").replace(")", r"\)")), open_table(path, KAOQIN):
        pass


def test_a_blank_row_is_read_but_ten_rows_of_titles_hide_the_header(tmp_path):
    path = kaoqin_csv(tmp_path, [f"说明{i}" for i in range(10)] + [",".join(KAOQIN_HEADER)])
    with open_table(path, KAOQIN) as table:
        assert table.header_row == 1 and table.match.missing == ["学校标识码", "日期", "全国学籍号", "出勤状态"]


def test_an_oversized_record_below_the_header_is_numbered_and_the_next_is_read(tmp_path, monkeypatch):
    monkeypatch.setattr(readers, "MAX_CSV_RECORD", 200)
    path = kaoqin_csv(
        tmp_path,
        [",".join(KAOQIN_HEADER), "2141082001,2025-09-01,G1," + "长" * 300 + ",出勤", "2141082001,2025-09-02,G1,,迟到"],
    )
    with open_table(path, KAOQIN) as table:
        rows = list(table.rows)
    assert [number for number, _ in rows] == [2, 3]
    assert isinstance(rows[0][1], OversizedRow) and rows[0][1] == []
    assert rows[1][1] == ["2141082001", "2025-09-02", "G1", "", "迟到"]


def test_too_many_fields_is_an_oversized_record(tmp_path, monkeypatch):
    monkeypatch.setattr(readers, "MAX_COLUMNS", 6)
    path = kaoqin_csv(tmp_path, [",".join(KAOQIN_HEADER), "a,b,c,d,e,f", "a,b,c,d,e,f,g"])
    with open_table(path, KAOQIN) as table:
        rows = list(table.rows)
    assert [(n, type(cells).__name__) for n, cells in rows] == [(2, "list"), (3, "OversizedRow")]


def test_an_oversized_record_where_the_header_is_looked_for_rejects_the_file(tmp_path, monkeypatch):
    monkeypatch.setattr(readers, "MAX_CSV_RECORD", 200)
    path = kaoqin_csv(tmp_path, ["标题", "长" * 300, ",".join(KAOQIN_HEADER), "2141082001,2025-09-01,G1,,出勤"])
    with pytest.raises(FileProblem, match=r"第 2 行过长.*找不到表头"), open_table(path, KAOQIN):
        pass


def test_a_bom_is_not_part_of_the_first_header(tmp_path):
    path = tmp_path / "bom.csv"
    path.write_bytes(codecs.BOM_UTF8 + ",".join(KAOQIN_HEADER).encode() + b"\n")
    with open_table(path, KAOQIN, "utf-8") as table:  # even when read as plain UTF-8
        assert table.header[0] == "学校代码" and table.match.known[0] == "school_code"
