"""The fast path's block preparation (kcbx.ingest.fast): Arrow blocks of a CSV turned into
COPY-ready rows and quarantined ones. Its exactness argument (fast.py's docstring) is
that it writes exactly what the row-by-row path writes: the same file through both paths
must give the same rows, NULLs, rejections, control-character cells and key materials.
Through fast.copy_blocks, its public seam, with a stand-in for the load (tests/data/
ingest_load.py) and no warehouse."""

from __future__ import annotations

import pyarrow as pa
import pytest

from kcbx.feeds import feed
from kcbx.ingest import fast, load
from kcbx.ingest.readers import open_table
from kcbx.ingest.rows import normalise_value
from kcbx.synth.messy import footer_rows, write_file
from tests.data.ingest_load import LOAD_ID, TERM, TODAY, RowCopy, copy_csv, file_load, spooled

pytestmark = pytest.mark.unit

KAOQIN = feed("kaoqin")
COLUMNS = {c.col: c for c in KAOQIN.columns}
HEADER = ["学校代码", " 考勤日期", "学籍号", "班级", "出勤状态"]
TITLE = [["长川市城关镇\n学生考勤表"], []]  # two physical lines, then a blank row: the header is row 3
S = "2141082001"
ROWS = [
    [S, "2025-09-01", "G1", "一班", "出勤"],  # 4: canonical
    [S, "2025/9/2", "G1", "一班", "迟到"],  # 5: a date to fix
    ["２１４１０８２００１", "2025-09-03", " G2 ", "", "病假"],  # 6: full-width digits, padding, no class
    [S, "2025-09-03", "G3", "二班", "事假\u3000"],  # 7: an ideographic space after a code
    [S, "2025-09-04", "G1", '=HYPERLINK("http://example.invalid")', "出勤"],  # 8: formula-like text
    [S, "2025-09-04", "G2", "＝1+1", "出勤"],  # 9: one behind a full-width ＝
    [S, "2025-09-05", "G1", "一\x01班", "出勤"],  # 10: a control character in free text
    [S, "2025-09-05", "G2", "\x00", "出勤"],  # 11: nothing but a NUL: an empty cell
    [S, "2025-09-05", "G3", "", "出\x00勤"],  # 12: a NUL in a code
    [S, "2025-02-30", "G1", "", "出勤"],  # 13: no such day
    ["214108200", "2025-09-06", "G1", "", "出勤"],  # 14: nine digits
    [S, "2025-09-06", "", "", "出勤"],  # 15: no 学籍号
    [S, "2025-09-06", "G4", "", "旷 课"],  # 16: not a code
    [S, "2025-09-07", "G5", "\x7f", "旷课"],  # 17: DEL alone
    ["", "", "", "\x01", ""],  # 18: blank once its control character is gone: not read, not recorded
    *footer_rows(15, "王丽", 5),  # 19 blank, 20 合计, 21 备注, 22 填表人
]
LOADED = [
    ("4", S, "2025-09-01", "G1", "一班", "出勤"),
    ("5", S, "2025-09-02", "G1", "一班", "迟到"),
    ("6", S, "2025-09-03", "G2", None, "病假"),
    ("7", S, "2025-09-03", "G3", "二班", "事假"),
    ("8", S, "2025-09-04", "G1", '=HYPERLINK("http://example.invalid")', "出勤"),
    ("9", S, "2025-09-04", "G2", "=1+1", "出勤"),
    ("10", S, "2025-09-05", "G1", "一班", "出勤"),
    ("11", S, "2025-09-05", "G2", None, "出勤"),
    ("17", S, "2025-09-07", "G5", None, "旷课"),
]
REJECTED = [
    (12, "bad_code", "出勤状态"),
    (13, "bad_date", "日期"),
    (14, "bad_digits", "学校标识码"),
    (15, "missing_value", "全国学籍号"),
    (16, "bad_code", "出勤状态"),
    (20, "not_a_data_row", None),
    (21, "not_a_data_row", None),
    (22, "not_a_data_row", None),
]


def attendance(tmp_path, form: str = "utf-8", rows=ROWS, header=HEADER, preamble=TITLE):
    return write_file(tmp_path / "kaoqin", form, header, rows, preamble)


def fast_copy(path, feed_=KAOQIN):
    """The file through fast.copy_blocks: ((read, loaded), rows as COPY reads them, load)."""
    with open_table(path, feed_) as table:
        file_load_ = file_load(feed_, table)
        written: list[bytes] = []
        counts = fast.copy_blocks(file_load_, path, table.encoding, written.append)
    return counts, copy_csv(b"".join(written).decode()), file_load_


def row_by_row_copy(path, feed_=KAOQIN):
    with open_table(path, feed_) as table:
        file_load_ = file_load(feed_, table)
        copy, result = RowCopy(), load.FileResult(path.name, "loaded")
        load._copy_row_by_row(file_load_, table.rows, copy, result)
    return (result.rows_read, result.rows_loaded), copy.rows, file_load_


def quarantined(file_load_) -> list[tuple]:
    return [(int(r[1]), r[2], r[4]) for r in spooled(file_load_.rejects)[1]]


@pytest.mark.parametrize("form", ["utf-8", "utf-8-sig", "gb18030"])
def test_a_block_becomes_the_rows_the_row_path_would_load(tmp_path, form):
    path = attendance(tmp_path, form)
    counts, rows, file_load_ = fast_copy(path)
    assert counts == (17, 9)  # blank rows are not read
    assert rows == [(str(LOAD_ID), number, TERM, *values, None) for number, *values in LOADED]
    assert quarantined(file_load_) == REJECTED
    # Free text's control characters removed (10, 11, 17); a code's (12) makes it invalid instead.
    assert spooled(file_load_.control_cells)[1] == [(str(LOAD_ID), n, "class_name") for n in ("10", "11", "17")]
    assert file_load_.materials == {f"student:G{i}" for i in (1, 2, 3, 5)}
    assert file_load_.formula_columns == {"class_name"}

    slow_counts, slow_rows, slow_load = row_by_row_copy(path)
    assert slow_counts == counts and slow_rows == rows
    assert quarantined(slow_load) == REJECTED
    assert spooled(slow_load.control_cells)[1] == [(str(LOAD_ID), n, "class_name") for n in ("10", "11", "17")]
    assert slow_load.materials == file_load_.materials


def test_rejected_rows_are_stored_as_delivered_under_the_files_headers(tmp_path):
    _, _, file_load_ = fast_copy(attendance(tmp_path))
    raw = {int(r[1]): r[5] for r in spooled(file_load_.rejects)[1]}
    header = '{"学校代码": "2141082001", "考勤日期": '
    assert raw[12] == header + '"2025-09-05", "学籍号": "G3", "班级": "", "出勤状态": "出勤"}'  # the NUL removed
    assert raw[15] == header + '"2025-09-06", "学籍号": "", "班级": "", "出勤状态": "出勤"}'
    assert raw[20] == '{"学校代码": "合计", "考勤日期": "15人", "学籍号": "", "班级": "", "出勤状态": ""}'


def test_a_file_of_canonical_rows_is_copied_whole_and_an_absent_optional_column_is_null(tmp_path):
    header = ["学校标识码", "日期", "全国学籍号", "出勤状态"]
    rows = [[S, f"2025-09-{d:02d}", f"G{i}", "出勤"] for d in (1, 2) for i in (1, 2, 3)]
    counts, copied, file_load_ = fast_copy(attendance(tmp_path, rows=rows, header=header, preamble=()))
    assert counts == (6, 6)
    assert copied[0] == (str(LOAD_ID), "2", TERM, S, "2025-09-01", "G1", None, "出勤", None)
    assert [r[1] for r in copied] == [str(n) for n in range(2, 8)]
    assert file_load_.formula_columns == set() and file_load_.materials == {"student:G1", "student:G2", "student:G3"}
    assert spooled(file_load_.rejects) == ([], [])  # nothing to quarantine: no COPY at all


def test_row_numbers_and_students_carry_across_blocks(tmp_path, monkeypatch):
    monkeypatch.setattr(fast, "BLOCK_SIZE", 128)  # a few rows a block
    rows = [[S, f"2025-09-{d:02d}", f"G{i}", "", "出勤"] for d in range(1, 11) for i in range(4)]
    rows[25][4] = "缺勤"  # row 27 of the file
    path = attendance(tmp_path, rows=rows, preamble=())
    progress: list[tuple[float, int]] = []
    with open_table(path, KAOQIN) as table:
        file_load_ = file_load(KAOQIN, table)
        file_load_.progress = lambda fraction, read: progress.append((fraction, read))
        written: list[bytes] = []
        assert fast.copy_blocks(file_load_, path, table.encoding, written.append) == (40, 39)
    numbers = [int(r[1]) for r in copy_csv(b"".join(written).decode())]
    assert sorted(numbers) == [n for n in range(2, 42) if n != 27]
    assert quarantined(file_load_) == [(27, "bad_code", "出勤状态")]
    assert file_load_.materials == {f"student:G{i}" for i in range(4)}
    assert len(progress) > 5 and [read for _, read in progress] == sorted(read for _, read in progress)
    assert progress[-1][1] == 40


def test_ragged_rows_send_the_file_to_the_row_path(tmp_path):
    path = attendance(tmp_path, rows=[[S, "2025-09-01", "G1", "", "出勤"], ["合计", "1人"]], preamble=())
    with pytest.raises(fast.FastPathUnavailable):
        fast_copy(path)
    counts, _, file_load_ = row_by_row_copy(path)
    assert counts == (2, 1) and quarantined(file_load_) == [(3, "not_a_data_row", None)]


def test_a_field_or_row_beyond_the_csv_bounds_is_the_row_paths_to_quarantine(tmp_path, monkeypatch):
    path = attendance(tmp_path, rows=[[S, "2025-09-01", "G1", "班" * 40, "出勤"]], preamble=())
    monkeypatch.setattr(fast, "MAX_CSV_FIELD", 100)  # 班 is three bytes: 120
    with pytest.raises(fast.FastPathUnavailable, match="field"):
        fast_copy(path)
    monkeypatch.setattr(fast, "MAX_CSV_FIELD", 200)
    monkeypatch.setattr(fast, "MAX_CSV_RECORD", 140)  # 10 + 10 + 2 + 120 + 6 bytes
    with pytest.raises(fast.FastPathUnavailable, match="row"):
        fast_copy(path)
    monkeypatch.setattr(fast, "MAX_CSV_RECORD", 148)
    assert fast_copy(path)[0] == (1, 1)


@pytest.mark.parametrize(
    ("feed_name", "name", "extra", "missing", "eligible"),
    [
        ("kaoqin", "k.csv", {}, [], True),
        ("kaoqin", "k.CSV", {}, [], True),
        ("kaoqin", "k.xlsx", {}, [], False),  # workbooks are read row by row
        ("kaoqin", "k.csv", {5: "备注"}, [], False),  # undeclared columns go to raw.extra
        ("kaoqin", "k.csv", {}, ["出勤状态"], False),  # every row is quarantined
        ("huji", "h.csv", {}, [], False),  # identity numbers need the per-row checks
        ("calendar", "c.csv", {}, [], True),
    ],
)
def test_which_files_take_the_fast_path(tmp_path, feed_name, name, extra, missing, eligible):
    assert fast.eligible(feed(feed_name), tmp_path / name, extra, missing) is eligible


# --- one column of a block -----------------------------------------------------------------


def check(col: str, values: list[str | None]) -> fast.Checked:
    return fast._check_column(COLUMNS[col], pa.array(values, pa.string()), TODAY)


def test_a_canonical_column_passes_as_it_is():
    arr = pa.array(["G1", "G2", "G1"], pa.string())
    checked = fast._check_column(COLUMNS["student_no"], arr, TODAY)
    assert checked.ok is None and checked.values is arr and not checked.formula_like


def test_empty_cells_stop_a_row_only_in_a_required_column():
    assert check("student_no", ["G1", None]).ok.to_pylist() == [True, False]
    assert check("class_name", ["一班", None]).ok is None
    assert check("class_name", [" 一班", None]).ok.to_pylist() == [True, True]  # fixed, and still optional


@pytest.mark.parametrize(
    ("col", "values", "ok", "fixed"),
    [
        (
            "day",
            ["2025-09-01", "2025-9-1", "20250901", "2025-02-30", "2025-13-01"],
            [1, 1, 1, 0, 0],
            ["2025-09-01"] * 3,
        ),
        (
            "school_code",
            [S, "２１４１０８２００１", " 2141082001", "214108200", "214108200A"],
            [1, 1, 1, 0, 0],
            [S] * 3,
        ),
        ("attendance_status", ["出勤", "出勤 ", "出 勤", "到校"], [1, 1, 0, 0], ["出勤", "出勤"]),
        ("student_no", ["G1", "\u3000G1", "Ｇ１", "  "], [1, 1, 1, 0], ["G1"] * 3),
    ],
)
def test_values_that_are_not_canonical_go_through_the_row_rules(col, values, ok, fixed):
    checked = check(col, values)
    assert checked.ok.to_pylist() == [bool(v) for v in ok]
    assert checked.values.to_pylist()[: len(fixed)] == fixed
    for value, allowed, out in zip(values, checked.ok.to_pylist(), checked.values.to_pylist(), strict=True):
        if allowed:  # what the fast path writes is what the row path writes
            assert normalise_value(COLUMNS[col], value, TODAY) == (out, None)


def test_every_character_python_trims_marks_a_value_for_the_row_rules():
    """NOT_CANONICAL must catch every character str.strip() removes and every full-width
    one clean_text() folds, or the fast path would load a value the row path changes."""
    trimmed = [chr(c) for c in range(0x110000) if chr(c).isspace()]
    folded = [chr(c) for c in range(0xFF01, 0xFF5F)]
    values = [v for ch in trimmed for v in (f"{ch}G1", f"G1{ch}")] + [f"G{ch}" for ch in folded]
    checked = check("student_no", values)
    expected = [normalise_value(COLUMNS["student_no"], v, TODAY)[0] for v in values]
    assert checked.values.to_pylist() == expected
    assert "G1" in expected and "G=" in expected


@pytest.mark.parametrize(
    ("values", "formula_like"),
    [
        (["一班", "=1"], True),
        (["+1"], True),
        (["-1"], True),
        (["@SUM(A1)"], True),
        (["＝1"], True),  # folded to =1 by the row rules
        (["一班", "a=1", " x", "#N/A"], False),
        ([None], False),
    ],
)
def test_formula_like_free_text_is_noticed(values, formula_like):
    assert check("class_name", values).formula_like is formula_like


def test_formula_like_is_for_free_text_only():
    assert check("student_no", ["-G1"]).formula_like  # 学籍号 is free text
    assert not check("school_code", ["-2141082001", "=1"]).formula_like  # a code is checked, never noted
    assert not check("day", ["-2025-09-01"]).formula_like
