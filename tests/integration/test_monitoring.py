"""监测预警 on a hand-made county (tests/data/monitoring/README.md): weekly and monthly
到校情况, the early warning and its proof on history against values worked out by hand;
closed weeks and months that do not change when later data arrive; the 预警名单 read
back from its workbook; the 通报 page printed by headless Chromium."""

from __future__ import annotations

import os
import re
import subprocess
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import openpyxl
import psycopg
import pytest

from kcbx import identity
from tests.conftest import CHROMIUM, CHROMIUM_FLAGS, TERM, TEST_PII_KEY, embedded_warehouse
from tests.data.handmade import (
    COUNTY,
    JUNIOR,
    PRIMARY,
    TOWN1,
    TOWN2,
    VILLAGE1,
    VILLAGE2,
    write_csv,
    write_people,
    write_places,
)

pytestmark = pytest.mark.integration

MONDAYS = [date(2025, 9, 22) + timedelta(weeks=w) for w in range(4)]
W1, W2, W3, W4 = MONDAYS
SEPTEMBER, OCTOBER = date(2025, 9, 1), date(2025, 10, 1)


def _days(monday: date) -> list[date]:
    return [monday + timedelta(days=i) for i in range(5)]


# name: (born, sex, school, grade, 脱贫家庭, marks W1-W3); "-" no row, "." the school sent nothing
CHILDREN = {
    "A": ("2017-03-01", "男", PRIMARY, "3", False, "PPPPP PPPPP PPPPP"),
    "B": ("2015-05-05", "女", PRIMARY, "5", True, "PPPPP UPU-P UUUUP"),
    "C": ("2018-02-02", "男", PRIMARY, "2", False, "病事PPP PPPPP PPPPP"),
    "D": ("2012-04-04", "女", JUNIOR, "8", False, "PPPPP PPPPU PPPP."),
    "E": ("2013-06-06", "男", JUNIOR, "7", True, "PPPPU PPPPP PPPP."),
}
MARK = {"P": "出勤", "U": "旷课", "病": "病假", "事": "事假"}

# (school, Monday): school days, missed school days, roll calls expected, delivered,
# student-days, present, excused, unexcused, children with unexcused days
WEEKLY = {
    (PRIMARY, W1): (5, 0, 15, 15, 15, 13, 2, 0, 0),
    (JUNIOR, W1): (5, 0, 10, 10, 10, 9, 0, 1, 1),
    (PRIMARY, W2): (5, 0, 15, 14, 15, 12, 0, 3, 1),
    (JUNIOR, W2): (5, 0, 10, 10, 10, 9, 0, 1, 1),
    (PRIMARY, W3): (5, 0, 15, 15, 15, 11, 0, 4, 1),
    (JUNIOR, W3): (5, 1, 10, 8, 8, 8, 0, 0, 0),
}
# county: schools with a missed day, attendance rate
COUNTY_WEEKLY = {W1: (0, Decimal("0.8800")), W2: (0, Decimal("0.8400")), W3: (1, Decimal("0.8261"))}
MONTHLY = {
    (PRIMARY, SEPTEMBER): (7, 0, 21, 21, 21, 18, 2, 1, 1),
    (JUNIOR, SEPTEMBER): (7, 0, 14, 14, 14, 13, 0, 1, 1),
    (PRIMARY, OCTOBER): (8, 0, 24, 23, 24, 18, 0, 6, 1),
    (JUNIOR, OCTOBER): (8, 1, 16, 14, 14, 13, 0, 1, 1),
}
# (school, day): as WEEKLY
DAILY = {
    (PRIMARY, date(2025, 10, 2)): (1, 0, 3, 2, 3, 2, 0, 1, 1),
    (JUNIOR, date(2025, 10, 10)): (1, 1, 2, 0, 0, 0, 0, 0, 0),
    (JUNIOR, date(2025, 9, 26)): (1, 0, 2, 2, 2, 1, 0, 1, 1),
}
COUNTY_MONTHLY = {SEPTEMBER: (0, Decimal("0.8857")), OCTOBER: (1, Decimal("0.8158"))}
# (child, Monday): score and its parts' points
WARNINGS = {
    ("B", W2): (8, {"recent_unexcused": 6, "priority_group": 1, "stage": 1}),
    ("B", W3): (15, {"recent_unexcused": 10, "attendance_drop": 3, "priority_group": 1, "stage": 1}),
}
FIGURES = (
    "school_days, missed_school_days, roll_calls_expected, roll_calls_delivered, student_days, present_days, "
    "excused_days, unexcused_days, children_with_unexcused_days"
)


def _number(name: str) -> str:
    seq = list(CHILDREN).index(name)
    born, sex = CHILDREN[name][0], CHILDREN[name][1]
    return identity.make_number("411082", date.fromisoformat(born), 2 * seq + (1 if sex == "男" else 2))


def _key(name: str) -> str:
    return identity.child_key(TEST_PII_KEY, _number(name))


def _week_file(term: Path, school: str, monday: date, marks: dict[str, str]) -> None:
    """One school's roll calls of one week: marks per child, one character per day."""
    rows = []
    for name, week in marks.items():
        for day, mark in zip(_days(monday), week, strict=True):
            if mark in MARK:
                rows.append([school, day.isoformat(), "G" + _number(name), MARK[mark]])
    write_csv(
        term / "kaoqin" / f"kaoqin_{school}_{monday.isoformat()}.csv",
        ["学校标识码", "日期", "全国学籍号", "出勤状态"],
        rows,
    )


def _landing(root: Path) -> Path:
    term = root / TERM
    write_places(term)
    calendar = [[d.isoformat(), "是"] for monday in MONDAYS for d in _days(monday)]
    write_csv(term / "calendar" / "calendar.csv", ["日期", "是否上课日"], [*calendar, ["2025-09-27", "否"]])
    huji, xueji, fupin = [], [], []
    for name, (born, sex, school, grade, poor, _) in CHILDREN.items():
        number, village = _number(name), VILLAGE1 if school == PRIMARY else VILLAGE2
        huji.append([number, f"儿童{name}", sex, born, village, "正常"])
        xueji.append(["G" + number, number, f"儿童{name}", sex, born, school, grade, "在读"])
        if poor:
            fupin.append([number, f"儿童{name}", "脱贫户"])
    write_people(term, huji, xueji, fupin)
    for school in (PRIMARY, JUNIOR):
        pupils = {n: c[5].split() for n, c in CHILDREN.items() if c[2] == school}
        for w, monday in enumerate((W1, W2, W3)):
            _week_file(term, school, monday, {n: weeks[w] for n, weeks in pupils.items()})
    return root


def _second_delivery(root: Path) -> None:
    """W4, everyone present, and the 小学's W1 file again with A 旷课 on 09-22."""
    term = root / TERM
    for school in (PRIMARY, JUNIOR):
        _week_file(term, school, W4, {n: "PPPPP" for n, c in CHILDREN.items() if c[2] == school})
    _week_file(term, PRIMARY, W1, {"A": "UPPPP", "B": "PPPPP", "C": "病事PPP"})


def _snapshot(conn) -> dict:
    def period(table: str) -> dict:
        rows = conn.execute(
            f"select unit_level, unit_code, period_start, {FIGURES}, schools_missing_days, attendance_rate "
            f"from marts.{table} where term_id = %s",
            (TERM,),
        ).fetchall()
        return {(level, code, start): tuple(rest) for level, code, start, *rest in rows}

    return {
        "daily": period("agg_attendance_daily"),
        "weekly": period("agg_attendance_weekly"),
        "monthly": period("agg_attendance_monthly"),
        "warnings": {
            (key, monday): (score, {p["part"]: p["points"] for p in details})
            for key, monday, score, details in conn.execute(
                "select w.child_key, w.week_start, w.score, l.details from marts.fct_early_warnings w "
                "join marts.ledger_early_warnings l using (warning_id) where w.term_id = %s",
                (TERM,),
            )
        },
        "backtest": {
            (rule, horizon): rest
            for rule, horizon, *rest in conn.execute(
                "select rule, horizon_weeks, child_weeks, warned_child_weeks, positive_child_weeks, true_positives, "
                "precision, recall, events, median_lead_days from marts.agg_warning_backtest where group_kind = '全部'"
            )
        },
        "a_on_0922": conn.execute(
            "select attendance_kind from marts.fct_attendance_daily where child_key = %s and day = '2025-09-22'",
            (_key("A"),),
        ).fetchone()[0],
    }


@pytest.fixture(scope="module")
def monitored(tmp_path_factory):
    landing = _landing(tmp_path_factory.mktemp("monitoring-county"))
    warehouse = embedded_warehouse(tmp_path_factory, "monitoring")
    first = warehouse.run_term(landing, TERM)
    with psycopg.connect(warehouse.url(), autocommit=True) as conn:
        before = _snapshot(conn)
    reports = warehouse.home / "reports" / TERM
    workbook = openpyxl.load_workbook(reports / "预警名单" / W2.isoformat() / f"预警名单_{TERM}_第02周_和尚桥镇.xlsx")
    _second_delivery(landing)
    warehouse.run_term(landing, TERM)
    with psycopg.connect(warehouse.url(), autocommit=True) as conn:
        after = _snapshot(conn)
    yield {"before": before, "after": after, "workbook": workbook, "reports": reports, "run": first.stdout}
    warehouse.kcbx("db", "stop")


def test_weekly_figures_equal_hand_computed_values(monitored):
    weekly = monitored["before"]["weekly"]
    schools = {(code, start): v[:9] for (level, code, start), v in weekly.items() if level == "school"}
    assert schools == WEEKLY
    towns = {(code, start): v[:9] for (level, code, start), v in weekly.items() if level == "township"}
    assert towns == {({PRIMARY: TOWN1, JUNIOR: TOWN2}[s], w): v for (s, w), v in WEEKLY.items()}
    county = {start: (v[9], v[10]) for (level, _, start), v in weekly.items() if level == "county"}
    assert county == COUNTY_WEEKLY  # W4 is in the calendar but not due yet


def test_daily_figures_equal_hand_computed_values_and_add_up_to_the_week(monitored):
    for moment in ("before", "after"):
        daily, weekly = monitored[moment]["daily"], monitored[moment]["weekly"]
        sums: dict[tuple, list[int]] = {}
        for (level, code, day), v in daily.items():
            week = sums.setdefault((level, code, day - timedelta(days=day.weekday())), [0] * 8)
            week[:] = [a + b for a, b in zip(week, v[:8], strict=True)]
        # every figure but the children with unexcused days, who count once a week
        assert sums == {k: list(v[:8]) for k, v in weekly.items()}, moment
    schools = {(code, day): v[:9] for (level, code, day), v in monitored["before"]["daily"].items()}
    assert {k: schools[k] for k in DAILY} == DAILY


def test_monthly_figures_equal_hand_computed_values(monitored):
    monthly = monitored["before"]["monthly"]
    assert {(code, start): v[:9] for (level, code, start), v in monthly.items() if level == "school"} == MONTHLY
    county = {start: (v[9], v[10]) for (level, _, start), v in monthly.items() if level == "county"}
    assert county == COUNTY_MONTHLY


def test_warnings_equal_hand_computed_scores(monitored):
    expected = {(_key(name), monday): score for (name, monday), score in WARNINGS.items()}
    assert monitored["before"]["warnings"] == expected
    assert "监测预警 warnings" in monitored["run"]


def test_closed_weeks_and_months_do_not_change_when_later_data_arrive(monitored):
    before, after = monitored["before"], monitored["after"]
    assert (before["a_on_0922"], after["a_on_0922"]) == ("present", "unexcused")  # the correction loaded
    closed_days = (*_days(W1), *_days(W2))
    for table, closed in (("daily", closed_days), ("weekly", (W1, W2)), ("monthly", (SEPTEMBER,))):
        kept = {k: v for k, v in before[table].items() if k[2] in closed}
        assert kept and {k: after[table][k] for k in kept} == kept, table
    w4 = {k: v for k, v in after["weekly"].items() if k[2] == W4 and k[0] == "county"}
    assert [v[:9] for v in w4.values()] == [(5, 0, 25, 25, 25, 25, 0, 0, 0)]
    october = after["monthly"][("county", COUNTY, OCTOBER)]
    assert october[0] == 13 and october != before["monthly"][("county", COUNTY, OCTOBER)]  # still open


def test_proof_on_history_equals_hand_computed_values(monitored):
    backtest = monitored["after"]["backtest"]
    # child-weeks, warned, positive, true positives, precision, recall, events, median lead
    assert backtest[("score", 2)] == [10, 1, 2, 1, Decimal("1.0000"), Decimal("0.5000"), 1, 3.0]
    assert backtest[("baseline", 2)] == [10, 0, 2, 0, None, Decimal("0.0000"), 1, 0.0]
    assert backtest[("none", 2)][:4] == [10, 0, 2, 0]


def test_warning_list_workbook_reads_back(monitored):
    sheet = monitored["workbook"].active
    rows = list(sheet.iter_rows(values_only=True))
    assert "预警名单" in rows[0][0] and "第2周" in rows[0][0] and "和尚桥镇" in rows[0][0]
    assert rows[1][:6] == ("序号", "姓名", "身份证号", "学校", "学段", "预警分")
    (only,) = rows[2:]
    assert only[1] == "儿童B" and only[2] == "*" * 14 + _number("B")[-4:]  # masked
    assert only[5] == 8 and only[9] == "新增"
    assert "近10个上课日旷课3天" in only[6] and "脱贫家庭" in only[6] and "小学高年级" in only[6]
    assert all(c.data_type != "f" for row in sheet.iter_rows() for c in row)  # never a formula


def test_bulletin_prints_on_a4_in_chromium(monitored, tmp_path):
    if not os.path.exists(CHROMIUM):
        pytest.skip(f"missing machine feature: Debian chromium at {CHROMIUM} (.ci/run installs it)")
    page = monitored["reports"] / "通报" / f"通报_{TERM}.html"
    flags = [*CHROMIUM_FLAGS, f"--user-data-dir={tmp_path / 'profile'}"]
    dom = subprocess.run(
        [CHROMIUM, *flags, "--dump-dom", page.as_uri()], capture_output=True, text=True, timeout=120
    ).stdout
    ranking = re.search(r'<table id="township-ranking">.*?</table>', dom, re.S).group(0)
    assert ranking.count("<tr>") == 3  # header + two townships
    assert "长葛市控辍保学工作通报" in dom
    # by hand: every child enrolled and none a dropout at the data's end (B came back); 巩固率
    # has no grade-9-age child; no case: nothing under target, nothing highlighted
    targets = re.search(r'<table id="county-targets">.*?</table>', dom, re.S).group(0)
    assert targets.count("<td>达标</td>") == 2 and "无数据" in targets and 'class="under"' not in dom
    pdf = tmp_path / "bulletin.pdf"
    subprocess.run(
        [CHROMIUM, *flags, "--no-pdf-header-footer", f"--print-to-pdf={pdf}", page.as_uri()],
        capture_output=True,
        timeout=120,
    )
    content = pdf.read_bytes()
    sizes = re.findall(rb"/MediaBox \[0 0 ([\d.]+) ([\d.]+)\]", content)
    assert sizes and all(abs(float(w) - 595) < 2 and abs(float(h) - 842) < 2 for w, h in sizes)  # A4 portrait
    months = sorted(p.name for p in (monitored["reports"] / "通报").glob(f"通报_{TERM}_*.html"))
    assert months == [f"通报_{TERM}_2025-09.html", f"通报_{TERM}_2025-10.html"]


def test_weekly_workbook_reads_back(monitored):
    path = monitored["reports"] / "周报" / f"到校情况周报_{TERM}.xlsx"
    workbook = openpyxl.load_workbook(path)
    assert workbook.sheetnames == ["全县", "和尚桥镇", "坡胡镇"]
    rows = list(workbook["全县"].iter_rows(min_row=3, values_only=True))
    # week, Monday, unit, school days, schools, with a missed day, missed days, expected,
    # delivered, rate, unexcused, children with unexcused days (W1 as delivered first: frozen)
    assert rows[0][2:] == ("全县", 5, 2, 0, 0, 25, 25, "88.00%", 1, 1) and rows[0][0] == "第1周"
    assert [r[0] for r in rows if r[2] == "全县"] == ["第1周", "第2周", "第3周", "第4周"]
    schools = list(workbook["坡胡镇"].iter_rows(min_row=3, values_only=True))
    assert [(r[0], r[2], r[6]) for r in schools][2] == ("第3周", "坡胡第一初级中学", 1)  # the missed 10-10
