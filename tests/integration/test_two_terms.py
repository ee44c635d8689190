"""Two consecutive terms of one county: term 1's facts survive term 2, a child's changed
flags are kept as history (SCD2 snapshot), cases carry over, escalate and close exactly
as the generator's scripts and the case oracle say, and a closed term's report is frozen."""

from __future__ import annotations

import csv
import json
import re
import shutil
import zipfile
from collections import Counter
from datetime import date
from pathlib import Path

import jsonschema
import openpyxl
import psycopg
import pytest

from kcbx import identity
from kcbx.identity import child_key
from tests.conftest import TEST_PII_KEY, embedded_warehouse

pytestmark = pytest.mark.integration

AUTUMN, SPRING = "2025-2026-1", "2025-2026-2"
# `kcbx status --json` after one term and after two, and the second run's --json document
SEEN: dict[str, dict] = {}


def _json(completed) -> dict:
    assert completed.returncode == 0, completed.stderr[-3000:]
    return json.loads(completed.stdout)


@pytest.fixture(scope="module")
def two_terms(tmp_path_factory):
    from kcbx.synth.writer import synthesize

    landing = tmp_path_factory.mktemp("two-terms")
    # weekly: attendance as one file per school and week, as 周报 schools send it
    expected = synthesize(landing, children=500, seed=777, term=AUTUMN, terms=2, weekly=True)
    warehouse = embedded_warehouse(tmp_path_factory, "two-terms")
    yield warehouse, landing, expected
    warehouse.kcbx("db", "stop")


def _findings(conn, term):
    return set(
        conn.execute(
            "select finding_type, child_key, school_code, details::text from marts.fct_findings where term_id = %s",
            (term,),
        ).fetchall()
    )


@pytest.fixture(scope="module")
def loaded(two_terms):
    """Autumn, then spring; what autumn looked like before spring was loaded."""
    warehouse, landing, expected = two_terms
    first = warehouse.kcbx("run", "--landing", str(landing), "--term", AUTUMN)
    assert first.returncode == 0, first.stderr[-3000:]
    with psycopg.connect(warehouse.url(), autocommit=True) as conn:
        before = {
            "findings": _findings(conn, AUTUMN),
            "enrolment": conn.execute(
                "select count(*) from marts.fct_enrolment where term_id = %s", (AUTUMN,)
            ).fetchone()[0],
            "daily": conn.execute(
                "select count(*), max(source_loaded_at) from marts.fct_attendance_daily where term_id = %s", (AUTUMN,)
            ).fetchone(),
        }
    SEEN["status_one"] = _json(warehouse.kcbx("status", "--json"))
    second = warehouse.kcbx("run", "--landing", str(landing), "--term", SPRING, "--json")
    SEEN["run"] = _json(second)
    SEEN["status_two"] = _json(warehouse.kcbx("status", "--json"))
    with psycopg.connect(warehouse.url(), autocommit=True) as conn:  # the same moment, read independently
        SEEN["audit"] = {term: _feed_audit(conn, term) for term in (AUTUMN, SPRING)}
        SEEN["marts"] = {
            term: dict(
                conn.execute(
                    "select finding_type, count(*) from marts.fct_findings where term_id = %s group by 1", (term,)
                ).fetchall()
            )
            for term in (AUTUMN, SPRING)
        }
        SEEN["open_cases"] = conn.execute(
            "select count(*) from marts.fct_case where case_status_code not in ('closed', 'written_off')"
        ).fetchone()[0]
    return warehouse, landing, expected, before


def test_term_two_keeps_term_one_and_records_flag_changes(loaded):
    warehouse, landing, expected, before = loaded
    autumn_before, enrolment_before, daily_before = before["findings"], before["enrolment"], before["daily"]
    changes = expected["changes"][SPRING]
    newly, back = child_key(TEST_PII_KEY, changes["newly_monitored"]), child_key(TEST_PII_KEY, changes["returned"])
    with psycopg.connect(warehouse.url(), autocommit=True) as conn:
        # Term 1's facts are intact after term 2 is loaded.
        assert _findings(conn, AUTUMN) == autumn_before
        assert (
            conn.execute("select count(*) from marts.fct_enrolment where term_id = %s", (AUTUMN,)).fetchone()[0]
            == enrolment_before
        )
        # Daily attendance is partitioned by term, and term 1's partition was not rebuilt.
        assert (
            conn.execute(
                "select count(*), max(source_loaded_at) from marts.fct_attendance_daily where term_id = %s", (AUTUMN,)
            ).fetchone()
            == daily_before
        )
        partitions = conn.execute(
            "select inhrelid::regclass::text from pg_inherits "
            "where inhparent = 'marts.fct_attendance_daily'::regclass order by 1"
        ).fetchall()
        assert partitions == [("marts.fct_attendance_daily_2025_2026_1",), ("marts.fct_attendance_daily_2025_2026_2",)]
        raw_partitions = conn.execute(
            "select inhrelid::regclass::text from pg_inherits where inhparent = 'raw.kaoqin'::regclass order by 1"
        ).fetchall()
        assert raw_partitions == [("raw.kaoqin_2025_2026_1",), ("raw.kaoqin_2025_2026_2",)]
        # Term 2's findings are exactly the generator's.
        spring = {(t, k, s) for t, k, s, _ in _findings(conn, SPRING)}
        wanted = {
            (f["finding_type"], child_key(TEST_PII_KEY, f["child"]) if f["child"] else None, f["school_code"])
            for f in expected["findings"]
            if f["term_id"] == SPRING
        }
        assert spring == wanted
        # The child persuaded back is out of school in autumn only.
        assert ("out_of_school", back) in {(t, k) for t, k, _, _ in autumn_before}
        assert ("out_of_school", back) not in {(t, k) for t, k, _ in spring}
        # The flag change is history: two versions, the old one closed.
        versions = conn.execute(
            "select as_of_term_id, monitoring_type, dbt_valid_to is null from marts.snap_child_attributes "
            "where child_key = %s order by dbt_valid_from",
            (newly,),
        ).fetchall()
        assert versions == [(AUTUMN, None, False), (SPRING, "突发严重困难户", True)]
        unchanged = conn.execute(
            "select count(*) from marts.snap_child_attributes group by child_key order by 1 desc limit 1"
        ).fetchone()[0]
        assert unchanged <= 2
    assert json.loads((landing / "expected.json").read_text(encoding="utf-8"))["terms"] == [AUTUMN, SPRING]


CASE_COLUMNS = (
    "opened_term_id, as_of_term_id, closed_term_id, case_status, stage, actions, "
    "is_action_overdue, is_escalation_overdue"
)


def _case_row(case: dict) -> tuple:
    return (
        case["opened_term_id"],
        case["as_of_term_id"],
        case["closed_term_id"],
        case["status"],
        case["stage"],
        case["actions"],
        case["is_action_overdue"],
        case["is_escalation_overdue"],
    )


def test_cases_carry_over_escalate_and_close_as_expected(loaded):
    warehouse, _, expected, _ = loaded
    with psycopg.connect(warehouse.url(), autocommit=True) as conn:
        got = {
            (key, episode): tuple(rest)
            for key, episode, *rest in conn.execute(
                f"select child_key, episode_no, {CASE_COLUMNS} from marts.fct_case"
            ).fetchall()
        }
        actions = conn.execute(
            "select c.child_key, a.case_id is null, a.stage, a.is_late, a.is_unescalated "
            "from marts.fct_case_action a left join marts.fct_case c using (case_id) order by a.action_on"
        ).fetchall()
        orphans = conn.execute("select count(*) from marts.fct_case_action where case_id is null").fetchone()[0]
    want = {(child_key(TEST_PII_KEY, case["child"]), case["episode_no"]): _case_row(case) for case in expected["cases"]}
    assert got == want
    # The scripted paths are all there (kcbx/synth/county.py CASE_SCRIPTS), so that the
    # comparison above covers every status, escalation and a second episode.
    scripts = {name: child_key(TEST_PII_KEY, number) for name, number in expected["changes"][SPRING]["cases"].items()}
    by_child = {key: row for (key, episode), row in got.items() if episode == 1}
    assert by_child[scripts["returned"]][2:4] == (SPRING, "销号")
    assert by_child[scripts["escalated"]][3:5] == ("劝返中", 3)
    assert by_child[scripts["unescalated"]][3:5] == ("劝返中", 1) and by_child[scripts["unescalated"]][7]
    assert by_child[scripts["placed"]][3] == "已安置"
    assert by_child[scripts["returning"]][3] == "已返校"
    assert by_child[scripts["written_off"]][2:4] == (AUTUMN, "核销")
    assert got[(scripts["written_off"], 2)][0] == SPRING  # found again: a new case
    statuses = {row[3] for row in got.values()}
    assert {"疑似", "已核实", "劝返中", "已返校", "已安置", "销号", "核销"} <= statuses
    assert any(row[6] for row in got.values()) and any(not row[6] for row in got.values())
    # Every 劝返 action once; the school's own follow-up has no case and is reported.
    assert len(actions) == sum(case["actions"] for case in expected["cases"]) + orphans
    assert orphans == 1
    assert any(late for *_, late, _ in actions) and any(unescalated for *_, unescalated in actions)


# --- 入学通知名单 and the 部门名单儿童去向核实台账, read back from the spring workbooks and
# checked against what the spring delivery's own rows (plain CSV) say, worked out here
# without the warehouse.


def _delivered(term_dir: Path, feed: str) -> list[dict[str, str]]:
    rows: list[dict[str, str]] = []
    for path in sorted((term_dir / feed).glob("*.csv")):
        with path.open(encoding="utf-8-sig", newline="") as f:
            rows += list(csv.DictReader(f))
    return rows


def _loadable(row: dict[str, str]) -> bool:
    """A row the loader keeps: a valid identity number and a readable 出生日期."""
    if not identity.validate(row["身份证号"]).valid:
        return False
    try:
        date.fromisoformat(row.get("出生日期") or "2000-01-01")
    except ValueError:
        return False
    return True


def _workbook_rows(path: Path, numbers: tuple[str, ...] = ()) -> tuple[list[str], list[tuple[str, tuple]]]:
    """(the header every sheet has, [(sheet, data row without 序号)]), checking on the way
    that the title is in A1, the header in row 2, no cell is a formula and every data cell
    but 序号 and the columns named in `numbers` is text."""
    with zipfile.ZipFile(path) as archive:
        for member in archive.namelist():
            if member.startswith("xl/worksheets/"):
                xml = archive.read(member).decode()
                assert "<f>" not in xml and "<f " not in xml, member
    headers, rows = set(), []
    for sheet in openpyxl.load_workbook(path).worksheets:
        title, header, *data = list(sheet.iter_rows())
        assert title[0].value.endswith(sheet.title)
        headers.add(tuple(c.value for c in header))
        texts = [i for i, c in enumerate(header) if i > 0 and c.value not in numbers]
        for number, row in enumerate(data, start=1):
            assert all(c.data_type != "f" for c in row)
            assert row[0].value == number  # 序号
            # nothing a spreadsheet would compute: text (or empty)
            assert all(
                row[i].value is None or (row[i].data_type == "s" and isinstance(row[i].value, str)) for i in texts
            )
            rows.append((sheet.title, tuple(c.value for c in row[1:])))
    [header] = headers
    return list(header), rows


STARTERS_HEADER = ["序号", "姓名", "身份证号", "性别", "出生年份", "户籍地", "入学类型", "入学学年", "对口学校"]
STARTERS_HEADER += ["现就读学校", "依据"]


def _expected_starters(term_dir: Path) -> Counter:
    """入学通知名单 for school year 2026-2027 from the spring delivery (2025-2026-2, Y = 2025):
    grade 1: 户籍 正常, born 2019-09-01..2020-08-31, not 在读/休学 anywhere; grade 7: grade 6
    在读/休学 (or 毕业 since 2025-09-01) at a county school, not in junior school already, 户籍
    not closed. Township: 户籍's, else the school's; catchment: its one 小学 / 初中."""
    regions = {r["区划代码"]: r["名称"] for r in _delivered(term_dir, "regions")}
    schools = {r["学校标识码"]: r for r in _delivered(term_dir, "schools")}

    def catchment(town: str, kind: str) -> str | None:
        names = [s["学校名称"] for s in schools.values() if s["乡镇代码"] == town and s["办学类型"] == kind]
        return names[0] if len(names) == 1 else None

    latest: dict[str, dict] = {}
    for row in [r for r in _delivered(term_dir, "huji") if _loadable(r)]:
        known = latest.get(row["身份证号"])
        if known is None or (row["状态变动日期"] or "") >= (known["状态变动日期"] or ""):
            latest[row["身份证号"]] = row
    registrations = _delivered(term_dir, "xueji")
    enrolled = {r["身份证号"] for r in registrations if r["学籍状态"] in ("在读", "休学") and r["身份证号"]}
    junior = {
        r["身份证号"]
        for r in registrations
        if r["身份证号"]
        and (
            (r["学籍状态"] in ("在读", "休学") and r["年级"] in "789") or (r["学籍状态"] == "毕业" and r["年级"] == "9")
        )
    }
    gone = {
        r["身份证号"]
        for r in _delivered(term_dir, "quxiang")
        if r["去向类型"] in ("死亡", "迁出") and "2025-09-01" <= r["核实日期"] <= "2026-08-31"
    }
    expected: Counter = Counter()
    for number, row in latest.items():
        if row["人员状态"] != "正常" or number in enrolled or number in gone:
            continue
        if date(2019, 9, 1) <= identity.birth_date(number) <= date(2020, 8, 31):
            town = row["户籍地区划代码"][:9] + "000"
            person = (row["姓名"], identity.mask(number), row["性别"], number[6:10], regions.get(row["户籍地区划代码"]))
            expected[(regions[town], *person, "一年级入学", catchment(town, "小学"), None, "户籍（正常）")] += 1
    seen: set[str] = set()
    for r in registrations:
        number, status = r["身份证号"], r["学籍状态"]
        graduated_now = status == "毕业" and (r["状态变动日期"] or "") >= "2025-09-01"
        if r["年级"] != "6" or r["学校标识码"] not in schools or not (status in ("在读", "休学") or graduated_now):
            continue
        household = latest.get(number) if number else None
        closed = household is not None and household["人员状态"] in ("死亡", "迁出", "注销")
        if closed or number in junior or number in gone or (number or r["全国学籍号"]) in seen:
            continue
        seen.add(number or r["全国学籍号"])
        school = schools[r["学校标识码"]]
        town = household["户籍地区划代码"][:9] + "000" if household else school["乡镇代码"]
        born = number[6:10] if number else r["出生日期"][:4]
        sex = identity.sex(number) if number else r["性别"]
        village = regions.get(household["户籍地区划代码"]) if household else None
        entry = ("升入七年级", catchment(town, "初中"), school["学校名称"], f"学籍（六年级{status}）")
        masked = identity.mask(number) if number else None
        expected[(regions[town], r["姓名"], masked, sex, born, village, *entry)] += 1
    return expected


def test_school_starters_workbook_is_written_for_spring_and_lists_whom_the_rows_say(loaded):
    warehouse, landing, expected, _ = loaded
    reports = warehouse.home / "reports"
    assert not (reports / AUTUMN / "入学通知名单.xlsx").exists()  # spring terms only
    path = reports / SPRING / "入学通知名单.xlsx"
    header, rows = _workbook_rows(path)
    assert header == STARTERS_HEADER
    assert all(re.fullmatch(r"\*{14}\d{3}[\dX]", row[1]) for _, row in rows if row[1])
    found = Counter(
        (sheet, name, masked, sex, year, village, kind, catchment, school, basis)
        for sheet, (name, masked, sex, year, village, kind, school_year, catchment, school, basis) in rows
    )
    assert {row[6] for _, row in rows} == {"2026-2027"}
    want = _expected_starters(landing / SPRING)
    assert found == want
    kinds = Counter(key[6] for key in found.elements())
    assert kinds["一年级入学"] >= 10 and kinds["升入七年级"] >= 10, kinds
    # One row by hand: the first grade-7 child of the 学籍 export in 和尚桥镇 (the first
    # township), whose 户籍 is there too.
    xueji = _delivered(landing / SPRING, "xueji")
    huji = {r["身份证号"]: r for r in _delivered(landing / SPRING, "huji")}
    first = next(
        r
        for r in xueji
        if r["年级"] == "6" and r["学籍状态"] == "在读" and r["学校标识码"] == "2141082001" and r["身份证号"] in huji
    )
    number = first["身份证号"]
    village = {r["区划代码"]: r["名称"] for r in _delivered(landing / SPRING, "regions")}[
        huji[number]["户籍地区划代码"]
    ]
    person = (first["姓名"], "**************" + number[-4:], huji[number]["性别"], number[6:10], village)
    assert ("和尚桥镇", *person, "升入七年级", "和尚桥第一初级中学", "和尚桥中心小学", "学籍（六年级在读）") in found
    # Not listed: a 小学毕业 of the last school year (out of school, not a starter), and the
    # graduate whose junior school registered it already.
    controls = expected["controls"][SPRING]
    listed = {(name, masked) for _, name, masked, *_ in found}
    names = {r["身份证号"]: r["姓名"] for r in xueji}
    for plan in ("out_primary_graduate", "primary_graduate_continued"):
        assert controls[plan] and not {(names[n], identity.mask(n)) for n in controls[plan]} & listed, plan
    with psycopg.connect(warehouse.url(), autocommit=True) as conn:
        in_mart = dict(conn.execute("select term_id, count(*) from marts.notice_school_starters group by 1").fetchall())
    assert in_mart == {SPRING: len(rows)}


DEPARTMENTS = {"fupin": "乡村振兴", "canlian": "残联", "minzheng": "民政", "sifa": "司法"}
LISTED_HEADER = ["序号", "姓名", "身份证号", "出生年份", "名单部门", "名单信息", "所在村（防返贫监测）", "说明"]
LISTED_HEADER += ["办理事项"]


def test_unknown_listed_children_ledger_lists_each_child_for_whereabouts(loaded):
    """部门名单儿童去向核实台账: every listed_child_unknown child, worked out from the rows: on a
    department list, in the cohort (2010-09-01..2019-08-31 by its number), in no 户籍 and no
    学籍 row and confirmed by no 去向核实 of the school year; on its 防返贫监测 township's sheet."""
    warehouse, landing, _, _ = loaded
    term_dir = landing / SPRING
    regions = {r["区划代码"]: r["名称"] for r in _delivered(term_dir, "regions")}
    known = {r["身份证号"] for r in _delivered(term_dir, "huji") if _loadable(r)}
    known |= {r["身份证号"] for r in _delivered(term_dir, "xueji")}
    known |= {r["身份证号"] for r in _delivered(term_dir, "quxiang") if "2025-09-01" <= r["核实日期"] <= "2026-08-31"}
    listed: dict[str, dict] = {}
    for feed, department in DEPARTMENTS.items():
        for row in _delivered(term_dir, feed):
            number = row["身份证号"]
            if not identity.validate(number).valid or number in known:
                continue
            if date(2010, 9, 1) <= identity.birth_date(number) <= date(2019, 8, 31):
                child = listed.setdefault(number, {"name": row["姓名"], "departments": set(), "town": None})
                child["departments"].add(department)
                if feed == "fupin" and row.get("区划代码"):
                    child["town"], child["village"] = row["区划代码"][:9] + "000", row["区划代码"]
                    child["monitoring"] = row["监测类型"]
    want = Counter(
        (regions.get(c["town"], "未知乡镇"), c["name"], identity.mask(n), int(n[6:10]), frozenset(c["departments"]))
        for n, c in listed.items()
    )
    path = warehouse.home / "reports" / SPRING / "ledgers" / f"部门名单儿童去向核实台账_{SPRING}.xlsx"
    header, rows = _workbook_rows(path, numbers=("出生年份",))  # the 台账's birth year is a number
    assert header == LISTED_HEADER
    found = Counter(
        (sheet, name, masked, year, frozenset(departments.split("、")))
        for sheet, (name, masked, year, departments, *_) in rows
    )
    assert len(listed) >= 3 and found == want
    assert {row[-1] for _, row in rows} == {"去向核实"}
    assert all(re.fullmatch(r"\*{14}\d{3}[\dX]", row[1]) for _, row in rows)
    assert "未知乡镇" in {sheet for sheet, _ in rows} and len({sheet for sheet, _ in rows}) >= 2
    # One row in full: a child the 防返贫监测 list places in a village.
    number, child = next((n, c) for n, c in sorted(listed.items()) if c.get("village") in regions)
    [row] = [row for _, row in rows if row[:2] == (child["name"], identity.mask(number))]
    assert row[2] == int(number[6:10]) and set(row[3].split("、")) == child["departments"]
    assert f"防返贫监测：{child['monitoring']}" in row[4].split("；") and row[5] == regions[child["village"]]
    assert row[6].endswith("请核实去向") and row[7] == "去向核实"


def test_closed_term_report_is_frozen(loaded, tmp_path):
    # Last in this module: it re-delivers autumn, which changes autumn's live figures.
    warehouse, landing, _, _ = loaded
    with psycopg.connect(warehouse.url(), autocommit=True) as conn:
        frozen_sql = (
            "select unit_level, unit_code, priority_group, cohort_children, enrolled_children, open_cases, frozen_at "
            "from marts.frozen_term_indicators where term_id = %s order by 1, 2, 3"
        )
        months_sql = "select * from marts.frozen_school_months where term_id = %s order by school_code, month_start"
        live_sql = (
            "select enrolled_children from marts.agg_indicators "
            "where term_id = %s and unit_level = 'county' and priority_group = '全部'"
        )
        frozen_before = conn.execute(frozen_sql, (AUTUMN,)).fetchall()
        months_before = conn.execute(months_sql, (AUTUMN,)).fetchall()
        live_before = conn.execute(live_sql, (AUTUMN,)).fetchone()[0]
        towns = conn.execute(
            "select i.unit_code, r.region_name, i.consolidation_rate, "
            "bool_or(t.is_met is false and t.target <> 'case_closure_rate') or bool_or(i.action_overdue_cases > 0) "
            "from marts.frozen_term_indicators i join marts.dim_region r on r.region_code = i.unit_code "
            "left join marts.frozen_term_targets t on (t.term_id, t.unit_level, t.unit_code) "
            "= (i.term_id, i.unit_level, i.unit_code) "
            "where i.term_id = %s and i.unit_level = 'township' and i.priority_group = '全部' group by 1, 2, 3",
            (AUTUMN,),
        ).fetchall()
    assert frozen_before and months_before
    bulletins = warehouse.home / "reports" / AUTUMN / "通报"
    pages_before = {p.name: p.read_text(encoding="utf-8") for p in bulletins.glob("*.html")}
    assert len(pages_before) >= 5  # the term and each of its months
    # The term's 通报: every township, ranked by 巩固率, a row in red where a target is missed
    # or a case is overdue.
    ranking = re.search(r'<table id="township-ranking">.*?</table>', pages_before[f"通报_{AUTUMN}.html"], re.S)
    rows = re.findall(r"<tr>(.*?)</tr>", ranking.group(0))[1:]
    names = [re.findall(r"<td[^>]*>(.*?)</td>", row)[1] for row in rows]
    flagged = {name: 'class="under"' in row for name, row in zip(names, rows, strict=True)}
    ranked = sorted(towns, key=lambda t: (t[2] is None, -(t[2] or 0), t[0]))
    assert names == [name for _, name, _, _ in ranked]
    assert flagged == {name: under for _, name, _, under in towns}
    assert any(flagged.values())  # the synthetic county has townships under target or overdue
    # A corrected autumn delivery after spring was loaded: the 学籍 export is re-sent
    # without its first ten students.
    corrected = tmp_path / "landing"
    shutil.copytree(landing / AUTUMN, corrected / AUTUMN)
    registry = corrected / AUTUMN / "xueji" / "xueji.csv"
    lines = registry.read_text(encoding="utf-8-sig").splitlines(keepends=True)
    registry.write_text("".join(lines[:1] + lines[11:]), encoding="utf-8")
    rerun = warehouse.kcbx("run", "--landing", str(corrected), "--term", AUTUMN)
    assert rerun.returncode == 0, rerun.stderr[-3000:]
    with psycopg.connect(warehouse.url(), autocommit=True) as conn:
        assert conn.execute(live_sql, (AUTUMN,)).fetchone()[0] < live_before  # live figures follow the data
        assert conn.execute(frozen_sql, (AUTUMN,)).fetchall() == frozen_before  # the report does not
        assert conn.execute(months_sql, (AUTUMN,)).fetchall() == months_before
    # The re-run wrote autumn's 通报 again from the frozen tables: word for word the same.
    assert {p.name: p.read_text(encoding="utf-8") for p in bulletins.glob("*.html")} == pages_before


def _feed_audit(conn, term: str) -> dict[str, tuple]:
    return {
        feed: tuple(int(v) for v in values)
        for feed, *values in conn.execute(
            "select feed, count(*), sum(rows_read), sum(rows_loaded), sum(rows_rejected) from audit.load_files "
            "where term_id = %s and superseded_at is null group by feed",
            (term,),
        ).fetchall()
    }


def test_status_after_one_and_after_two_terms_matches_the_load_audit_and_the_marts(loaded):
    from kcbx.cli.schemas import SCHEMAS

    _, _, expected, _ = loaded
    one, two = SEEN["status_one"], SEEN["status_two"]
    for document in (one, two):
        jsonschema.validate(document, SCHEMAS["status"])
        assert not re.search(r"\d{15}", json.dumps(document)), "no identity-shaped number in status"
    assert [t["term_id"] for t in one["terms"]] == [AUTUMN]
    assert [t["term_id"] for t in two["terms"]] == [AUTUMN, SPRING]
    assert one["terms"][0]["feeds"] == two["terms"][0]["feeds"]  # loading spring left autumn's loads alone
    for term in two["terms"]:
        term_id = term["term_id"]
        audit = SEEN["audit"][term_id]
        for feed in term["feeds"]:
            files, read, loaded_rows, rejected = audit.get(feed["feed"], (0, 0, 0, 0))
            assert (feed["files"], feed["rows_read"], feed["rows_loaded"], feed["rows_rejected"]) == (
                files, read, loaded_rows, rejected,
            ), feed["feed"]  # fmt: skip
            assert feed["delivered"] == (files > 0)
            # the generator's own count of the rows it wrote
            assert feed["rows_read"] == expected["rows"][term_id][feed["feed"]], feed["feed"]
        assert term["summary"]["rows_read"] == sum(expected["rows"][term_id].values())
        assert term["findings"] == SEEN["marts"][term_id] == expected["counts"][term_id]
        if term_id == SPRING:  # the latest term: the case mart's current state
            assert sum(term["open_cases"].values()) == SEEN["open_cases"]
        assert term["last_run"]["result"] == "built" and term["last_run"]["failed_task"] is None
        assert term["last_run"]["started_at"] <= term["last_run"]["finished_at"]
        assert term["quality"]["checks"] > 0 and term["no_access"] == []
        # synthetic deliveries are loaded long after the 2025 census dates
        assert {f["freshness"] for f in term["feeds"] if f["schedule"] == "base"} == {"late"}


def test_run_json_reports_what_the_run_built(loaded):
    from kcbx.cli.schemas import SCHEMAS

    document = SEEN["run"]
    jsonschema.validate(document, SCHEMAS["run"])
    assert document["state"] == "built" and document["exit_code"] == 0 and document["term_id"] == SPRING
    spring = next(t for t in SEEN["status_two"]["terms"] if t["term_id"] == SPRING)
    assert document["findings"] == spring["findings"] and document["loads"] == spring["summary"]


def test_status_reads_as_an_auditor(loaded):
    from kcbx.cli.schemas import SCHEMAS

    warehouse, *_ = loaded
    with psycopg.connect(warehouse.url(), autocommit=True) as conn:
        conn.execute("drop role if exists status_auditor")
        conn.execute("create role status_auditor login password 'status-test-only' in role kcbx_auditor")
        url = conn.info.dsn
    auditor = psycopg.conninfo.make_conninfo(url, user="status_auditor", password="status-test-only")
    out = warehouse.kcbx(
        "status", "--term", SPRING, "--json", "--url-env", "AUDIT_URL", extra_env={"AUDIT_URL": auditor}
    )
    document = _json(out)
    jsonschema.validate(document, SCHEMAS["status"])
    [term] = document["terms"]
    assert term["no_access"] == [] and term["feeds"] and term["findings"] and term["last_run"]
    as_reporter = _json(warehouse.kcbx("status", "--term", SPRING, "--json"))["terms"][0]
    assert term["feeds"] == as_reporter["feeds"] and term["findings"] == as_reporter["findings"]


def test_ledgers_json_lists_the_workbooks(loaded):
    from kcbx.cli.schemas import SCHEMAS

    warehouse, *_ = loaded
    document = _json(warehouse.kcbx("ledgers", "--term", SPRING, "--json"))
    jsonschema.validate(document, SCHEMAS["ledgers"])
    assert document["files"] and all(path.endswith(".xlsx") for path in document["files"])
    assert all(__import__("pathlib").Path(path).exists() for path in document["files"])


def test_weekly_files_load_and_the_warnings_equal_the_oracles(loaded):
    """Autumn, delivered week by week: its weekly figures and warnings are the oracle's
    (kcbx.synth.monitoring_oracle, from the rows written)."""
    warehouse, landing, expected, _ = loaded
    files = list((landing / AUTUMN / "kaoqin").glob("kaoqin_*_2025-*.csv"))
    assert len(files) > 100
    oracle = expected["monitoring"][AUTUMN]
    with psycopg.connect(warehouse.url(), autocommit=True) as conn:
        weekly = {
            (school, str(week)): rest
            for school, week, *rest in conn.execute(
                "select unit_code, period_start, missed_school_days, roll_calls_delivered, student_days, "
                "present_days, unexcused_days, children_with_unexcused_days from marts.agg_attendance_weekly "
                "where term_id = %s and unit_level = 'school'",
                (AUTUMN,),
            )
        }
        warnings = set(
            conn.execute(
                "select child_key, week_start::text, score from marts.fct_early_warnings where term_id = %s",
                (AUTUMN,),
            ).fetchall()
        )
    fields = ("missed_school_days", "roll_calls_delivered", "student_days", "present_days", "unexcused_days")
    fields += ("children_with_unexcused_days",)
    assert weekly == {(w["school_code"], w["week_start"]): [w[f] for f in fields] for w in oracle["weekly"]}
    assert warnings == {(child_key(TEST_PII_KEY, w["child"]), w["week_start"], w["score"]) for w in oracle["warnings"]}
    assert len(warnings) >= 10


def test_proof_on_history_is_computed_over_both_terms(loaded):
    """The warning against the plain 2-day rule and against no warning, over every past
    week of both terms; the report shows it. What it shows is the data's answer (see
    docs/monitoring.md): asserted here is that it is complete and consistent."""
    warehouse, _, _, _ = loaded
    with psycopg.connect(warehouse.url(), autocommit=True) as conn:
        rows = conn.execute(
            "select rule, horizon_weeks, weeks_evaluated, child_weeks, warned_child_weeks, positive_child_weeks, "
            "true_positives, precision, recall, events, median_lead_days, median_lead_days_warned "
            "from marts.agg_warning_backtest where group_kind = '全部'"
        ).fetchall()
        groups = {
            kind
            for (kind,) in conn.execute(
                "select distinct group_kind from marts.agg_warning_backtest where rule = 'score'"
            )
        }
    table = {(rule, h): rest for rule, h, *rest in rows}
    assert set(table) == {(r, h) for r in ("score", "baseline", "none") for h in (2, 4)}
    assert groups == {"全部", "性别", "学段", "重点群体"}
    for h in (2, 4):
        score, baseline, none = table[("score", h)], table[("baseline", h)], table[("none", h)]
        assert score[0] > 30  # weeks of both terms
        assert score[0] == baseline[0] == none[0] and score[1] == baseline[1] and score[3] == baseline[3]
        assert score[7] == baseline[7] == none[7] > 0  # the same events for every rule
        assert none[2] == none[4] == 0 and none[6] == 0
        assert 0 < score[4] <= score[2] and score[4] <= score[3]
        assert score[6] >= baseline[6]  # recall: the warning finds at least the children the rule does
        assert score[9] > baseline[9] >= 1  # it warns earlier
    report = (warehouse.home / "reports" / SPRING / "index.html").read_text(encoding="utf-8")
    assert 'id="table-backtest"' in report and "预警效果回测" in report and "公平性" in report
