"""入学率, 辍学率 and 巩固率, 残疾儿童入学率 by placement and 缓免学 by approval on a
hand-made county (tests/data/indicators/README.md), against values worked out by hand."""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal
from pathlib import Path

import psycopg
import pytest

from kcbx import identity
from tests.conftest import TERM, TEST_PII_KEY, embedded_warehouse
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

DAYS = [date(2025, 9, d) for d in range(1, 6)]

# name: (born, sex, 户籍 status or None, village, (school, grade, 学籍状态) or None, attendance)
CHILDREN = {
    "A": ("2011-03-01", "男", "正常", VILLAGE1, (JUNIOR, "9", "在读"), ["出勤"] * 5),
    "B": ("2011-05-05", "女", "正常", VILLAGE2, (JUNIOR, "8", "辍学"), []),
    "C": ("2019-01-10", "男", "正常", VILLAGE1, (PRIMARY, "1", "在读"), ["出勤"] * 5),
    "D": ("2016-02-02", "女", "正常", VILLAGE1, None, []),
    "E": ("2015-06-06", "男", "正常", VILLAGE2, (PRIMARY, "4", "在读"), []),
    "F": ("2014-04-04", "女", "正常", VILLAGE2, (JUNIOR, "6", "在读"), ["出勤", "出勤", "旷课", "旷课", "旷课"]),
    "G": ("2013-03-03", "男", "正常", VILLAGE1, (PRIMARY, "1", "延缓入学"), []),
    "H": ("2010-10-10", "女", "正常", VILLAGE2, (JUNIOR, "9", "毕业"), []),
    "I": ("2008-01-01", "男", "正常", VILLAGE1, None, []),
    "J": ("2012-12-12", "女", "迁出", VILLAGE2, None, []),
    "K": ("2012-01-01", "男", None, VILLAGE2, (JUNIOR, "7", "在读"), ["出勤"] * 5),
    "L": ("2017-05-05", "女", "正常", VILLAGE1, (PRIMARY, "2", "免于入学"), []),
}
POVERTY = ("D", "F")
# 就读方式 of a registration (普通 otherwise)
STUDY_MODES = {"A": "随班就读", "C": "特教学校", "K": "送教上门"}
# 残联's 残疾儿童 list: I is too old and J moved away, so neither counts
DISABLED = ("A", "C", "D", "I", "J", "K", "L")
# 缓免学审批 (child, 审批类型, 审批日期, 有效期至): G's 延缓入学 approval has no end date, so it ran
# to 2025-08-31 (its school year's end), before the census date 2025-09-30; G's 免于入学
# approval is not of its status. L's covers the census date.
APPROVALS = [
    ("G", "延缓入学", "2025-06-15", ""),
    ("G", "免于入学", "2025-09-01", "2026-08-31"),
    ("L", "免于入学", "2025-09-10", "2026-08-31"),
]
# 学籍异动 this term: (child, type, date, from school, to school)
CHANGES = [
    ("B", "辍学", "2025-09-02", JUNIOR, ""),
    ("E", "转入", "2025-09-01", "", PRIMARY),
    ("K", "转入", "2025-09-01", "3301010001", JUNIOR),
    ("F", "休学", "2025-09-03", JUNIOR, ""),
    ("F", "复学", "2025-09-04", "", JUNIOR),
    ("H", "毕业", "2025-07-01", JUNIOR, ""),  # not a flow
]
# Worked out by hand: (school, 学段, group, type) -> children. 转入 counts at the school it
# went to, the rest at the school left; B is grade 8 (初中), E grade 4 and F grade 6 (小学),
# K grade 7 (初中); F is 脱贫家庭 and K, with no county 户籍, 随迁子女 and, on the 残联 list, 残疾儿童.
EXPECTED_FLOWS = {
    (JUNIOR, "初中", "全部", "辍学"): 1,
    (PRIMARY, "小学", "全部", "转入"): 1,
    (JUNIOR, "初中", "全部", "转入"): 1,
    (JUNIOR, "小学", "全部", "休学"): 1,
    (JUNIOR, "小学", "全部", "复学"): 1,
    (JUNIOR, "小学", "脱贫家庭", "休学"): 1,
    (JUNIOR, "小学", "脱贫家庭", "复学"): 1,
    (JUNIOR, "初中", "随迁子女", "转入"): 1,
    (JUNIOR, "初中", "残疾儿童", "转入"): 1,
}

# (unit_level, unit_code, priority_group): cohort, enrolled, on roll, dropouts,
# 入学率, 辍学率, grade-9-age children, of whom retained, 巩固率 (同龄在校率: no history)
EXPECTED = {
    ("county", COUNTY, "全部"): (10, 5, 6, 3, "0.5000", "0.5000", 3, 2, "0.6667"),
    ("township", TOWN1, "全部"): (5, 2, 2, 0, "0.4000", "0.0000", 1, 1, "1.0000"),
    ("township", TOWN2, "全部"): (5, 3, 4, 3, "0.6000", "0.7500", 2, 1, "0.5000"),
    ("school", PRIMARY, "全部"): (4, 2, 2, 1, "0.5000", "0.5000", 0, 0, None),
    ("school", JUNIOR, "全部"): (5, 3, 4, 2, "0.6000", "0.5000", 3, 2, "0.6667"),
    ("county", COUNTY, "脱贫家庭"): (2, 1, 1, 1, "0.5000", "1.0000", 0, 0, None),
}


def _number(name: str) -> str:
    """The identity number the fixture gives a child (as _landing writes it)."""
    seq = list(CHILDREN).index(name)
    born, sex = CHILDREN[name][0], CHILDREN[name][1]
    return identity.make_number("411082", date.fromisoformat(born), 2 * seq + (1 if sex == "男" else 2))


def _landing(root: Path) -> Path:
    term = root / TERM
    write_places(term)
    write_csv(
        term / "calendar" / "calendar.csv",
        ["日期", "是否上课日"],
        [[d.isoformat(), "是"] for d in DAYS] + [["2025-09-06", "否"]],
    )
    huji, xueji, kaoqin, fupin, canlian = [], [], [], [], []
    for seq, (name, (born, sex, status, village, registration, attendance)) in enumerate(CHILDREN.items()):
        number = identity.make_number("411082", date.fromisoformat(born), 2 * seq + (1 if sex == "男" else 2))
        if status:
            huji.append([number, f"儿童{name}", sex, born, village, status])
        if registration:
            school, grade, registry_status = registration
            student_no = "G" + number
            xueji.append([student_no, number, f"儿童{name}", sex, born, school, grade, registry_status])
            kaoqin += [[school, d.isoformat(), student_no, mark] for d, mark in zip(DAYS, attendance, strict=False)]
        if name in POVERTY:
            fupin.append([number, f"儿童{name}", "脱贫户"])
        if name in DISABLED:
            canlian.append([number, f"儿童{name}", "肢体", "二级", "随班就读"])
    write_people(term, huji, xueji, fupin)
    # the 学籍 export again, with its 就读方式 column
    write_csv(
        term / "xueji" / "xueji.csv",
        ["全国学籍号", "身份证号", "姓名", "性别", "出生日期", "学校标识码", "年级", "学籍状态", "就读方式"],
        [[*row, STUDY_MODES.get(row[2].removeprefix("儿童"), "普通")] for row in xueji],
    )
    write_csv(term / "canlian" / "canlian.csv", ["身份证号", "姓名", "残疾类别", "残疾等级", "安置建议"], canlian)
    write_csv(
        term / "huanmian" / "huanmian.csv",
        ["身份证号", "姓名", "审批类型", "审批日期", "有效期至"],
        [[_number(c), f"儿童{c}", kind, on, until] for c, kind, on, until in APPROVALS],
    )
    write_csv(term / "kaoqin" / "kaoqin.csv", ["学校标识码", "日期", "全国学籍号", "出勤状态"], kaoqin)
    numbers = {row[2].removeprefix("儿童"): row[1] for row in xueji}
    write_csv(
        term / "xueji_changes" / "xueji_changes.csv",
        ["全国学籍号", "身份证号", "异动类型", "异动日期", "原学校标识码", "现学校标识码"],
        [["G" + numbers[c], numbers[c], kind, on, src, dst] for c, kind, on, src, dst in CHANGES],
    )
    return root


@pytest.fixture(scope="module")
def indicators(tmp_path_factory):
    landing = _landing(tmp_path_factory.mktemp("indicator-county"))
    warehouse = embedded_warehouse(tmp_path_factory, "indicators")
    warehouse.run_term(landing, TERM)
    with psycopg.connect(warehouse.url(), autocommit=True) as conn:
        rows = conn.execute(
            "select unit_level, unit_code, priority_group, cohort_children, enrolled_children, on_roll_children, "
            "dropout_children, enrolment_rate, dropout_rate, grade9_age_children, grade9_age_retained, "
            "consolidation_rate, consolidation_method from marts.agg_indicators where term_id = %s",
            (TERM,),
        ).fetchall()
        flows = conn.execute(
            "select school_code, stage, priority_group, change_type, children from marts.agg_registry_flows "
            "where term_id = %s",
            (TERM,),
        ).fetchall()
        monitored = conn.execute(
            "select change_type, poverty_monitored_children, monitored_1 from marts.agg_registry_flows "
            "where term_id = %s and priority_group = '全部' and poverty_monitored_children > 0 order by 1",
            (TERM,),
        ).fetchall()
        stages = conn.execute(
            "select stage, cohort_children, enrolled_children, enrolment_rate, on_roll_children, dropout_children, "
            "dropout_rate, consolidation_rate, consolidation_method from marts.agg_stage_indicators "
            "where term_id = %s and unit_level = 'county' and priority_group = '全部'",
            (TERM,),
        ).fetchall()
        leavers = conn.execute(
            "select l.child_key, l.change_type, l.left_school_name from marts.ledger_unplaced_leavers l "
            "where l.term_id = %s",
            (TERM,),
        ).fetchall()
        placements = conn.execute(
            "select unit_level, unit_code, township_code, disabled_children, enrolled_children, inclusive_children, "
            "special_school_children, home_taught_children, unplaced_children, exempt_children, enrolment_rate, "
            "inclusive_rate, special_school_rate, home_taught_rate from marts.agg_disability_placement "
            "where term_id = %s",
            (TERM,),
        ).fetchall()
        exemptions = conn.execute(
            "select unit_level, township_code, exemption_status, approval_label, children from marts.agg_exemptions "
            "where term_id = %s",
            (TERM,),
        ).fetchall()
    report = (warehouse.home / "reports" / TERM / "index.html").read_text(encoding="utf-8")
    found = {(level, code, group): tuple(rest) for level, code, group, *rest in rows}
    found["flows"] = {(school, stage, group, kind): n for school, stage, group, kind, n in flows}
    found["leavers"] = leavers
    found["monitored"] = monitored
    found["stages"] = {stage: tuple(rest) for stage, *rest in stages}
    found["placements"] = {(level, code): tuple(rest) for level, code, *rest in placements}
    found["exemptions"] = {tuple(row[:4]): row[4] for row in exemptions}
    found["report"] = report
    yield found
    warehouse.kcbx("db", "stop")


@pytest.mark.parametrize("unit", list(EXPECTED), ids=lambda u: f"{u[0]}-{u[2]}-{u[1]}")
def test_indicators_equal_hand_computed_values(indicators, unit):
    cohort, enrolled, on_roll, dropouts, enrolment, dropout, grade9, retained, consolidation = EXPECTED[unit]
    assert indicators[unit] == (
        cohort,
        enrolled,
        on_roll,
        dropouts,
        Decimal(enrolment),
        Decimal(dropout),
        grade9,
        retained,
        Decimal(consolidation) if consolidation else None,
        "同龄在校率",
    )


def test_flows_equal_hand_computed_counts(indicators):
    assert indicators["flows"] == EXPECTED_FLOWS
    # F, the one 防返贫监测 child (脱贫户) with changes, broken out of 全部
    assert indicators["monitored"] == [("休学", 1, 1), ("复学", 1, 1)]


def test_a_leaver_registered_and_confirmed_nowhere_is_listed(indicators):
    # B dropped out of the junior school this school year and is in no school: listed.
    # E, K (转入) and F (休学, 复学) are in school; H's 毕业 is not a leaving.
    (key, kind, school), *others = indicators["leavers"]
    assert others == [] and (kind, school) == ("辍学", "坡胡第一初级中学")
    assert key == identity.child_key(TEST_PII_KEY, _number("B"))


# Worked out by hand (tests/data/indicators/README.md, 学段): 小学 C D E F G L (D's stage from
# its birth date), 初中 A B H K; 巩固率 by the same-age proxy: grade-6 age is F alone
# (enrolled), grade-9 age A, B, H (A enrolled, H graduated).
EXPECTED_STAGES = {
    "小学": (6, 3, Decimal("0.5000"), 3, 2, Decimal("0.6667"), Decimal("1.0000"), "同龄在校率"),
    "初中": (4, 2, Decimal("0.5000"), 3, 1, Decimal("0.3333"), Decimal("0.6667"), "同龄在校率"),
}


def test_stage_indicators_equal_hand_computed_values(indicators):
    assert indicators["stages"] == EXPECTED_STAGES


# 残疾儿童入学 by placement, worked out by hand (tests/data/indicators/README.md, 残疾儿童):
# the disabled children counted are A (随班就读), C (特教学校 → 特殊教育学校), K (送教上门),
# D (no 学籍: 未安置) and L (免于入学: 未安置, exempt); I (too old) and J (迁出) are not.
# (unit): township, disabled, enrolled, 随班就读, 特殊教育学校, 送教上门, 未安置, of them exempt,
# 入学率, and the shares of 随班就读, 特殊教育学校 and 送教上门
EXPECTED_PLACEMENTS = {
    ("county", COUNTY): (None, 5, 3, 1, 1, 1, 2, 1, "0.6000", "0.2000", "0.2000", "0.2000"),
    ("township", TOWN1): (TOWN1, 4, 2, 1, 1, 0, 2, 1, "0.5000", "0.2500", "0.2500", "0.0000"),
    ("township", TOWN2): (TOWN2, 1, 1, 0, 0, 1, 0, 0, "1.0000", "0.0000", "0.0000", "1.0000"),
    ("school", JUNIOR): (TOWN2, 2, 2, 1, 0, 1, 0, 0, "1.0000", "0.5000", "0.0000", "0.5000"),
    ("school", PRIMARY): (TOWN1, 2, 1, 0, 1, 0, 1, 1, "0.5000", "0.0000", "0.5000", "0.0000"),
}


def test_disability_placement_equals_hand_computed_values(indicators):
    assert indicators["placements"] == {
        unit: (*values[:8], *(Decimal(rate) for rate in values[8:])) for unit, values in EXPECTED_PLACEMENTS.items()
    }


def test_exemptions_by_status_and_approval_equal_hand_computed_counts(indicators):
    # G (延缓入学, 乡镇1): neither approval covers 2025-09-30; L (免于入学, 乡镇1): approved.
    assert indicators["exemptions"] == {
        ("county", None, "延缓入学", "未审批"): 1,
        ("county", None, "免于入学", "已审批"): 1,
        ("township", TOWN1, "延缓入学", "未审批"): 1,
        ("township", TOWN1, "免于入学", "已审批"): 1,
    }


def _report_table(page: str, table_id: str) -> list[list[str]]:
    body = re.search(rf'<div id="{table_id}">(.*?)</div>', page, re.S).group(1)
    return [re.findall(r"<t[hd]>(.*?)</t[hd]>", row) for row in re.findall(r"<tr>(.*?)</tr>", body)]


def test_report_shows_placements_and_the_exemption_table(indicators):
    page = indicators["report"]
    placements = _report_table(page, "table-disability")
    header = ["单位", "适龄残疾儿童", "随班就读", "特殊教育学校", "送教上门", "未安置", "其中延缓/免于入学"]
    assert placements[0] == [*header, "入学率"]
    assert placements[1] == ["全县", "5", "1", "1", "1", "2", "1", "60.00%"]
    assert sorted(placements[2:]) == [["和尚桥镇", "4", "1", "1", "0", "2", "1", "50.00%"],
                                      ["坡胡镇", "1", "0", "0", "1", "0", "0", "100.00%"]]  # fmt: skip
    assert _report_table(page, "table-exemptions") == [
        ["缓免学类型", "已审批", "未审批", "合计"],
        ["延缓入学", "0", "1", "1"],
        ["免于入学", "1", "0", "1"],
    ]
