"""Which reason a rejected row is quarantined with, for every reason in
kcbx.ingest.rows.REASON_LABELS: the value-level reasons through normalise_row (the one
implementation of the rules both copy paths use), the row- and file-level ones through
the row-by-row path (kcbx.ingest.load._copy_row_by_row) with the real spools and a
stand-in for COPY. A reason added to the table without a case here fails
test_every_reason_has_a_case."""

from __future__ import annotations

import json
import re
from datetime import date

import pytest

from kcbx.feeds import feed
from kcbx.ingest import load, readers
from kcbx.ingest.readers import open_table
from kcbx.ingest.rows import REASON_LABELS, RowResult, normalise_row, normalise_value, rejection
from kcbx.synth.messy import excel_broken_copies, footer_rows, write_file
from tests.data.ingest_load import LOAD_ID, TERM, TODAY, RowCopy, file_load, spooled

pytestmark = pytest.mark.unit

HUJI, XUEJI, CANLIAN, KAOQIN, QUANFAN = (feed(n) for n in ("huji", "xueji", "canlian", "kaoqin", "quanfan"))
NUMBER = "411082201503071234"  # valid: born 2015-03-07, male (odd sequence digit)
NUMBER_X = "41108220140601019X"  # valid, check character X
VALID = {
    "huji": {
        "id_number": NUMBER,
        "name": "张三",
        "sex": "男",
        "birth_date": "2015-03-07",
        "hukou_region_code": "411082100201",
        "person_status": "正常",
    },
    "xueji": {
        "student_no": "G411082201503071234",
        "name": "张三",
        "sex": "男",
        "birth_date": "2015-03-07",
        "school_code": "2141082001",
        "grade": "3",
        "registry_status": "在读",
    },
    "canlian": {
        "id_number": NUMBER,
        "name": "张三",
        "disability_category": "智力",
        "disability_grade": "二级",
    },
}

# reason -> cases of (feed, the one column changed from a valid row, its delivered value, detail)
CASES = {
    "missing_value": [
        ("huji", "name", "  ", "姓名"),
        ("huji", "id_number", None, "身份证号"),
        ("xueji", "grade", "", "年级"),
    ],
    "bad_date": [("huji", "birth_date", "2015-02-30", "出生日期"), ("huji", "birth_date", "07/03/2015", "出生日期")],
    "bad_code": [
        ("huji", "sex", "M", "性别"),
        ("huji", "person_status", "正 常", "人员状态"),
        ("canlian", "disability_grade", "五级", "残疾等级"),
    ],
    "bad_digits": [
        ("huji", "hukou_region_code", "41108210020", "户籍地区划代码"),
        ("huji", "hukou_region_code", "41108210020A", "户籍地区划代码"),
        ("xueji", "school_code", 12345678901234567.0, "学校标识码"),  # a number cell beyond 15 digits
        ("xueji", "school_code", 2141082001.5, "学校标识码"),
    ],
    "bad_grade": [("xueji", "grade", "十年级", "年级"), ("xueji", "grade", "0", "年级")],
    "id_length": [("huji", "id_number", NUMBER[:17], "身份证号")],
    "id_characters": [
        ("huji", "id_number", NUMBER[:16] + "A4", "身份证号"),
        ("huji", "id_number", "41108215030712Y", "身份证号"),
    ],
    "id_check_digit": [("huji", "id_number", NUMBER[:17] + "5", "身份证号")],
    "id_impossible_date": [("huji", "id_number", "411082201502301230", "身份证号")],
    "id_future_date": [("huji", "id_number", "411082202703071230", "身份证号")],
    "id_excel_number": [
        ("huji", "id_number", float(NUMBER), "身份证号"),  # an XLSX number cell
        ("huji", "id_number", int(NUMBER), "身份证号"),  # 18 digits are never exact in a spreadsheet
        ("huji", "id_number", 4110822015030712, "身份证号"),  # nor 16
        ("huji", "id_number", f"{float(NUMBER):.14E}", "身份证号"),  # a CSV's text of one: 4.11082201503071E+17
        ("huji", "id_number", "4.11082201503071e17", "身份证号"),
        ("huji", "id_number", NUMBER[:15] + "000", "身份证号"),  # a CSV export's zeroed last digits
    ],
}
# Reasons a whole row or file gets (not a value): the row-by-row tests below.
ROW_REASONS = {"not_a_data_row", "file_missing_column", "row_too_large"}
# identity.validate's reason for an empty number; the loader calls an empty required
# 身份证号 missing_value like any other required column (see CASES).
NOT_ASSIGNED = {"id_missing"}


def cells_with(feed_name: str, column: str, value: object) -> dict[str, object]:
    return {**VALID[feed_name], column: value}


def test_every_reason_has_a_case():
    assert set(REASON_LABELS) == set(CASES) | ROW_REASONS | NOT_ASSIGNED
    for label in REASON_LABELS.values():  # Chinese for the clerk, then English
        chinese, english = label.split("/ ", 1)
        assert re.search(r"[\u4e00-\u9fff]", chinese) and re.fullmatch(r"[a-z][ -~]+", english), label


@pytest.mark.parametrize("feed_name", sorted(VALID))
def test_the_valid_rows_load(feed_name):
    result = normalise_row(feed(feed_name), VALID[feed_name], TODAY)
    assert result.reason is None and result.detail is None


@pytest.mark.parametrize(
    ("reason", "feed_name", "column", "value", "detail"),
    [(reason, *case) for reason, cases in CASES.items() for case in cases],
)
def test_each_value_reason_names_its_column(reason, feed_name, column, value, detail):
    result = normalise_row(feed(feed_name), cells_with(feed_name, column, value), TODAY)
    assert (result.reason, result.detail) == (reason, detail)
    assert result.values[feed(feed_name).raw_columns.index(column)] is None


@pytest.mark.parametrize(
    ("value", "number"),
    [
        (f" {NUMBER} ", NUMBER),
        ("４１１０８２２０１５０３０７１２３４", NUMBER),  # full-width digits
        (NUMBER_X.lower(), NUMBER_X),
        ("411082150307123", "411082191503071238"),  # 15 digits: upgraded to 18
        ("411082201503017000", "411082201503017000"),  # ends in 000 but its check character is right
        (411082150307123, "411082191503071238"),  # a 15-digit number cell is exact
    ],
)
def test_identity_numbers_that_load(value, number):
    assert normalise_value(HUJI.columns[0], value, TODAY) == (number, None)


def test_the_first_problem_in_the_feeds_order_is_the_reason():
    cells = {**VALID["huji"], "birth_date": "2015-13-01", "sex": "M", "person_status": None}
    result = normalise_row(HUJI, cells, TODAY)
    assert (result.reason, result.detail) == ("bad_code", "性别")  # 性别 comes before 出生日期 and 人员状态


def test_a_disagreeing_birth_date_or_sex_is_recorded_not_rejected():
    result = normalise_row(HUJI, {**VALID["huji"], "birth_date": "2015/3/8", "sex": "女"}, TODAY)
    assert result.reason is None and result.id_conflict == "birth_date,sex"
    assert result.values[2:4] == ["女", "2015-03-08"]  # as delivered; the number wins downstream
    assert normalise_row(HUJI, VALID["huji"], TODAY).id_conflict is None
    # No conflict is looked for in a rejected row, nor in a feed without identity numbers.
    assert normalise_row(HUJI, {**VALID["huji"], "sex": "女", "name": None}, TODAY).id_conflict is None
    assert normalise_row(XUEJI, {**VALID["xueji"], "sex": "女"}, TODAY).id_conflict is None


def test_an_identity_number_is_checked_against_the_load_day():
    born_today = "41108220260101123X"  # valid, born 2026-01-01
    assert normalise_value(HUJI.columns[0], born_today, date(2026, 1, 1)) == (born_today, None)
    assert normalise_value(HUJI.columns[0], born_today, date(2025, 12, 31)) == (None, "id_future_date")


@pytest.mark.parametrize(
    ("cells", "reason"),
    [
        (["合计", "319人", "", "", "", ""], ("not_a_data_row", None)),
        (["", "备注：本表由乡镇汇总"], ("not_a_data_row", None)),
        (["填表人：王丽", "审核人："], ("not_a_data_row", None)),
        (["", "王合计", "男", "", "", ""], ("missing_value", "身份证号")),  # a name, not a total
    ],
)
def test_a_summary_or_note_row_is_named_as_such_not_by_the_value_it_lacks(cells, reason):
    row = normalise_row(HUJI, dict(zip(HUJI.raw_columns, cells, strict=False)), TODAY)
    assert row.reason is not None  # e.g. id_length for 合计 in the 身份证号 column
    assert rejection(row, cells) == reason


def test_rejection_keeps_a_data_rows_own_reason():
    assert rejection(RowResult([], "bad_code", "性别"), [NUMBER, "张三", "M"]) == ("bad_code", "性别")


# --- the row-by-row path: rows and files ---------------------------------------------


def copy_row_by_row(path, feed_):
    """Every row of the file through the row-by-row path: (result, rows to COPY, load)."""
    with open_table(path, feed_) as table:
        file_load_ = file_load(feed_, table)
        copy, result = RowCopy(), load.FileResult(path.name, "loaded")
        load._copy_row_by_row(file_load_, table.rows, copy, result)
    return result, copy.rows, file_load_


def rejected(file_load_) -> list[tuple]:
    """The load's rejected rows as audit.rejected_rows receives them: (row, reason, column, raw_row)."""
    _, rows = spooled(file_load_.rejects)
    assert all(r[0] == str(LOAD_ID) and r[3] == REASON_LABELS[r[2]] for r in rows)
    return [(int(r[1]), r[2], r[4], json.loads(r[5])) for r in rows]


def test_the_row_by_row_path_loads_quarantines_and_skips(tmp_path):
    header = ["身份证号", "姓名", "性别", "出生日期", "户籍地区划代码", "人员状态", "备注"]
    good = [NUMBER, "张\x01三", "男", "2015-03-07", "411082100201", "正常", "转\x00学"]
    rows = [
        good,
        [],
        [NUMBER_X.lower(), "李四", "男", "2014/6/1", "411082100201", "正常", ""],
        *excel_broken_copies([good], 0, "utf-8"),
        [NUMBER, "王五", "男", "2015-03-07", "411082100201", "正常"],  # a short row: 备注 absent
        *footer_rows(2, "王丽", 7),
    ]
    path = write_file(tmp_path / "huji", "utf-8", header, rows, [["长川市花名册"]])
    result, copied, file_load_ = copy_row_by_row(path, HUJI)
    assert (result.rows_read, result.rows_loaded) == (7, 3)  # blank rows are not read

    def loaded(row: int, number: str, name: str, born: str, extra: str | None = None) -> tuple:
        # the four optional columns absent, no identity conflict, raw.extra
        return (str(LOAD_ID), str(row), TERM, number, name, "男", born, "411082100201", "正常", *[None] * 5, extra)

    assert copied == [
        loaded(3, NUMBER, "张三", "2015-03-07", json.dumps({"备注": "转学"}, ensure_ascii=False)),
        loaded(5, NUMBER_X, "李四", "2014-06-01"),
        loaded(7, NUMBER, "王五", "2015-03-07"),
    ]
    quarantined = rejected(file_load_)
    assert [(n, reason, column) for n, reason, column, _ in quarantined] == [
        (6, "id_excel_number", "身份证号"),
        (9, "not_a_data_row", None),
        (10, "not_a_data_row", None),
        (11, "not_a_data_row", None),
    ]
    # As delivered, under the file's own headers, less control characters.
    assert quarantined[0][3] == dict(zip(header, ["4.11082201503071E+17", "张三", *good[2:6], "转学"], strict=True))
    assert quarantined[1][3] == dict(zip(header, ["合计", "2人", "", "", "", "", ""], strict=True))
    # Recorded wherever they were removed, in a row loaded (3) or quarantined (6).
    held = [(str(LOAD_ID), str(n), column) for n in (3, 6) for column in ("name", "备注")]
    assert spooled(file_load_.control_cells)[1] == held
    assert file_load_.materials == {NUMBER, NUMBER_X}


def test_a_file_missing_a_required_column_quarantines_every_row(tmp_path):
    header = ["身份证号", "姓名", "性别", "出生日期"]
    path = write_file(tmp_path / "huji", "xlsx", header, [[NUMBER, "张三", "男", "2015-03-07"], [], ["合计", "1人"]])
    result, copied, file_load_ = copy_row_by_row(path, HUJI)
    assert copied == [] and (result.rows_read, result.rows_loaded) == (2, 0)
    assert [(n, reason, column) for n, reason, column, _ in rejected(file_load_)] == [
        (2, "file_missing_column", "户籍地区划代码, 人员状态"),
        (4, "file_missing_column", "户籍地区划代码, 人员状态"),  # the file's reason, even for a total
    ]
    assert file_load_.materials == set()


def test_an_oversized_row_is_quarantined_unread(tmp_path, monkeypatch):
    monkeypatch.setattr(readers, "MAX_CSV_RECORD", 300)
    path = tmp_path / "kaoqin.csv"
    lines = [
        "学校标识码,日期,全国学籍号,班级,出勤状态",
        "2141082001,2025-09-01,G1,一班," + "出" * 400,
        "2141082001,2025-09-01,G2,,出勤",
    ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    result, copied, file_load_ = copy_row_by_row(path, KAOQIN)
    assert (result.rows_read, result.rows_loaded) == (2, 1)
    assert [row[1] for row in copied] == ["3"]
    assert rejected(file_load_) == [(2, "row_too_large", None, {})]


def test_responsible_people_are_key_material_with_their_township(tmp_path):
    header = ["身份证号", "姓名", "劝返日期", "劝返方式", "劝返结果", "责任人", "乡镇代码"]
    rows = [
        [NUMBER, "张三", "2025-10-08", "家访", "已返校", " 李老师 ", "411082100000"],
        [NUMBER_X, "李四", "2025-10-09", "电话", "未返校", "", ""],
    ]
    path = write_file(tmp_path / "quanfan", "utf-8", header, rows)
    result, _, file_load_ = copy_row_by_row(path, QUANFAN)
    assert result.rows_loaded == 2
    assert file_load_.materials == {NUMBER, NUMBER_X, "responsible:411082100000|李老师"}
