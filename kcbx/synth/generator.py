"""The synthetic county's generator: places, people and the rows of every feed of SPEC §2
(canonical Chinese headers, clean values), and the helpers scenarios plant with.

county.generate() runs the planting steps (its own and kcbx/synth/scenarios/); writer.py
puts the rows on disk and oracle.py computes the expected findings from those same rows.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, timedelta

from kcbx import identity
from kcbx.synth import names
from kcbx.synth.place import Place
from kcbx.terms import Term

# The default county, the development county every test and demo uses: read only through
# DEFAULT_PLACE (another county is a Place of its own, kcbx.synth.place.Place.of_county).
COUNTY6 = "411082"
COUNTY_CODE = COUNTY6 + "000000"
COUNTY_NAME = "长葛市"
DEFAULT_PLACE = Place(
    code=COUNTY_CODE,
    name=COUNTY_NAME,
    parent="411000000000",
    school_prefix="2141082",  # its schools 2141082001, 2141082002, ...
    outside_school="2141099001",
)
# Share of ordinary enrolled children whose attendance drifts away during a term.
DRIFTING_SHARE = 0.04
PRESENT_NOISE = (("出勤", 0.945), ("迟到", 0.02), ("病假", 0.02), ("事假", 0.01), ("旷课", 0.005))


@dataclass
class Child:
    number: str | None
    name: str
    sex: str
    born: date
    village: str
    huji_status: str | None = "正常"  # None: no 户籍 row in this county
    plan: str = "normal"


# The rows generate() plants for the loader to quarantine, by reason (every form).
QUARANTINED = {"id_check_digit": 1, "id_future_date": 1, "bad_date": 1}


@dataclass
class County:
    term: Term
    place: Place = DEFAULT_PLACE
    rows: dict[str, list[dict]] = field(default_factory=dict)
    # kaoqin is large: stored per school as (day, student_no, class, status) tuples
    attendance: dict[str, list[tuple]] = field(default_factory=dict)
    schools: list[dict] = field(default_factory=list)
    changes: dict = field(default_factory=dict)  # what differs from the previous term
    # planted cases a test checks by name: plan -> identity numbers
    controls: dict[str, list[str]] = field(default_factory=dict)


class Generator:
    def __init__(self, children: int, seed: int, term: Term, place: Place = DEFAULT_PLACE):
        self.seed = seed
        self.place = place
        self.streams: dict[str, tuple[random.Random, random.Random]] = {}
        self.rng = random.Random(seed)
        # Attendance noise has its own stream, so that the people - drawn from self.rng -
        # are the same children in every term generated with the same seed.
        self.attendance_rng = random.Random(f"{seed}-{term.term_id}")
        self.n = children
        self.term = term
        self.used_numbers: set[str] = set()
        self.classes: dict[str, str] = {}
        self.county = County(term, place)
        self.rows = self.county.rows
        for feed in (
            "regions",
            "schools",
            "calendar",
            "huji",
            "xueji",
            "xueji_changes",
            "kaoqin",
            "fupin",
            "canlian",
            "minzheng",
            "sifa",
            "renshe",
            "quanfan",
            "quxiang",
            "huanmian",
        ):
            self.rows[feed] = []
        self.school_days = [d for d, is_day in term.calendar() if is_day]
        self.plan_count = max(2, children // 300)

    @contextmanager
    def own_stream(self, name: str) -> Iterator[None]:
        """People drawn inside come from a stream of their own (the same in every term), and
        their attendance from one of its own, so that everything drawn outside is drawn
        exactly as without them."""
        main, attendance = self.rng, self.attendance_rng
        # entered again (a later scenario step), the stream goes on where it stopped
        self.rng, self.attendance_rng = self.streams.setdefault(
            name, (random.Random(f"{self.seed}-{name}"), random.Random(f"{self.seed}-{name}-{self.term.term_id}"))
        )
        try:
            yield
        finally:
            self.rng, self.attendance_rng = main, attendance

    # --- places -------------------------------------------------------------------------
    def build_places(self) -> None:
        place = self.place
        n_towns = max(3, min(len(names.TOWNSHIPS), self.n // 600))
        county = {"区划代码": place.code, "名称": place.name, "级别": "县", "上级代码": place.parent}
        self.rows["regions"].append(county)
        self.villages: dict[str, list[str]] = {}
        for t in range(n_towns):
            town = f"{place.code6}{100 + t:03d}000"
            self.rows["regions"].append(
                {"区划代码": town, "名称": names.TOWNSHIPS[t], "级别": "乡镇", "上级代码": place.code}
            )
            self.villages[town] = []
            for v in range(4):
                village = town[:9] + f"{201 + v:03d}"
                vname = self.rng.choice(names.VILLAGE_STEMS) + self.rng.choice(names.VILLAGE_TAILS) + "村"
                self.rows["regions"].append({"区划代码": village, "名称": vname, "级别": "村", "上级代码": town})
                self.villages[town].append(village)
        self.primary: dict[str, str] = {}
        self.junior: dict[str, str] = {}
        seq = 1
        for town, tname in zip(self.villages, names.TOWNSHIPS, strict=False):
            for kind, suffix, index in (("小学", "中心小学", self.primary), ("初中", "第一初级中学", self.junior)):
                self._school(place.school(seq), tname.removesuffix("镇").removesuffix("乡") + suffix, kind, town)
                index[town] = place.school(seq)
                seq += 1
        first_town = next(iter(self.villages))
        self.special = place.school(seq)
        self._school(self.special, f"{place.name}特殊教育学校", "特殊教育学校", first_town)
        # A teaching point that never sends attendance: school_missing_attendance.
        self.silent = place.school(seq + 1)
        self._school(self.silent, f"{names.TOWNSHIPS[1]}山区教学点", "教学点", list(self.villages)[1])
        # A school outside the county (of no county of its region), for transfers out.
        self.outside = place.outside_school
        for day, is_day in self.term.calendar():
            self.rows["calendar"].append({"日期": day.isoformat(), "是否上课日": "是" if is_day else "否"})

    def _school(self, code: str, name: str, kind: str, town: str) -> None:
        row = {"学校标识码": code, "学校名称": name, "办学类型": kind, "乡镇代码": town, "举办者": "公办"}
        self.rows["schools"].append(row)
        self.county.schools.append(row)

    # --- people -------------------------------------------------------------------------
    def _number(self, born: date, sex: str, region6: str | None = None) -> str:
        region6 = region6 or self.place.code6
        while True:
            seq = self.rng.randrange(0, 999)
            if (seq % 2 == 1) != (sex == "男"):
                seq = (seq + 1) % 1000
            number = identity.make_number(region6, born, seq)
            if number not in self.used_numbers:
                self.used_numbers.add(number)
                return number

    def _name(self, sex: str) -> str:
        given = names.GIVEN_BOY if sex == "男" else names.GIVEN_GIRL
        return self.rng.choice(names.SURNAMES) + "".join(self.rng.choice(given) for _ in range(self.rng.choice((1, 2))))

    def child(self, born: date | None = None, village: str | None = None, region6: str | None = None) -> Child:
        sex = self.rng.choice("男女")
        if born is None:
            first = date(self.term.year - 17, 9, 1)
            born = first + timedelta(days=self.rng.randrange((date(self.term.year, 8, 31) - first).days))
        village = village or self.rng.choice(self.rng.choice(list(self.villages.values())))
        return Child(self._number(born, sex, region6), self._name(sex), sex, born, village)

    def cohort_birth(self, grade: int | None = None) -> date:
        grade = grade or self.rng.randint(1, 9)
        start = date(self.term.year - 6 - grade, 9, 1)
        return start + timedelta(days=self.rng.randrange(365))

    def town_of(self, village: str) -> str:
        return village[:9] + "000"

    # --- rows ---------------------------------------------------------------------------
    def huji(self, c: Child, status: str | None = None, changed: date | None = None) -> None:
        status = status or c.huji_status or "正常"
        guardian_sex = self.rng.choice("男女")
        guardian_born = c.born - timedelta(days=365 * self.rng.randint(22, 40))
        self.rows["huji"].append(
            {
                "身份证号": c.number,
                "姓名": c.name,
                "性别": c.sex,
                "出生日期": c.born.isoformat(),
                "户籍地区划代码": c.village,
                "人员状态": status,
                "状态变动日期": changed.isoformat() if changed else "",
                "监护人姓名": self._name(guardian_sex),
                "监护人身份证号": self._number(guardian_born, guardian_sex),
                "联系电话": f"1{self.rng.choice('3578')}{self.rng.randrange(10**9):09d}",
            }
        )

    def xueji(
        self,
        c: Child,
        school: str,
        status: str = "在读",
        student_no: str | None = None,
        mode: str = "普通",
        with_number: bool = True,
        changed: date | None = None,
        grade: int | None = None,
    ) -> str:
        student_no = student_no or (
            "G" + c.number if c.number and with_number else f"L{self.rng.randrange(10**17):017d}"
        )
        grade = grade or min(9, max(1, self.term.grade_for(c.born)))
        self.classes[student_no] = f"{grade}年级{self.rng.randint(1, 4)}班"
        self.rows["xueji"].append(
            {
                "全国学籍号": student_no,
                "身份证号": c.number if with_number else "",
                "姓名": c.name,
                "性别": c.sex,
                "出生日期": c.born.isoformat(),
                "学校标识码": school,
                "年级": str(grade),
                "班级": self.classes[student_no],
                "学籍状态": status,
                "就读方式": mode,
                "状态变动日期": changed.isoformat() if changed else "",
            }
        )
        return student_no

    def change(
        self, student_no: str, c: Child, kind: str, on: date, src: str = "", dst: str = "", why: str = ""
    ) -> None:
        self.rows["xueji_changes"].append(
            {
                "全国学籍号": student_no,
                "身份证号": c.number or "",
                "异动类型": kind,
                "异动日期": on.isoformat(),
                "原学校标识码": src,
                "现学校标识码": dst,
                "异动原因": why,
            }
        )

    def whereabouts(self, c: Child, kind: str, confirmed: date) -> None:
        """A township's 去向核实 row for the child."""
        elsewhere = kind in ("县外就读", "出国出境")
        self.rows["quxiang"].append(
            {
                "身份证号": c.number,
                "姓名": c.name,
                "去向类型": kind,
                "就读学校": "广东省东莞市长安镇中心小学" if kind == "县外就读" else "",
                "就读地": ("广东省东莞市" if kind == "县外就读" else "新加坡") if elsewhere else "",
                "就读学籍号": f"G{self.rng.randrange(10**17):017d}" if kind == "县外就读" else "",
                "核实日期": confirmed.isoformat(),
                "核实方式": self.rng.choice(["学籍系统查询", "电话", "家访", "证明材料"]),
                "核实人": "王核实",
            }
        )

    def school_for(self, c: Child) -> str:
        town = self.town_of(c.village)
        return self.primary[town] if self.term.grade_for(c.born) <= 6 else self.junior[town]

    def attend(self, school: str, student_no: str, pattern: str) -> None:
        """Daily roll call for one student at one school by pattern."""
        out = self.county.attendance.setdefault(school, [])
        days = self.reported_days(school)
        for i, day in enumerate(days):
            if pattern == "normal":
                status = self._noise()
            elif pattern == "absent":
                status = "旷课"
            elif pattern == "visit":  # 送教上门: a weekly home visit, excused otherwise
                status = "出勤" if day.weekday() == 2 else "事假"
            elif pattern.startswith("stops"):  # present, then an unexcused run at the end
                run = int(pattern.removeprefix("stops"))
                if i < len(days) - run:
                    status = "出勤" if i >= len(days) - run - 2 else self._noise()
                else:
                    status = None if i % 2 else "旷课"  # unmarked days count as unexcused
            elif pattern.startswith("drift"):  # 监测预警: drifts away from `start` at `speed`
                status = self._drift_day(i, *(int(x) for x in pattern.removeprefix("drift").split(":")))
            elif pattern.startswith("run"):  # an unexcused run too short to count, then present
                run = int(pattern.removeprefix("run"))
                status = "旷课" if len(days) - run - 1 <= i < len(days) - 1 else "出勤"
            elif pattern.startswith("trail"):  # present, then a run of 旷课 roll calls to the end
                run = int(pattern.removeprefix("trail"))
                status = "旷课" if i >= len(days) - run else "出勤" if i >= len(days) - run - 2 else self._noise()
            elif pattern.startswith("truant"):  # a few 旷课 roll calls spread over the term, nothing else
                marks = int(pattern.removeprefix("truant"))
                step = len(days) // marks
                status = "旷课" if i % step == step // 2 and i < step * marks else None
            else:
                raise ValueError(pattern)
            if status is not None:
                out.append((day, student_no, self.classes.get(student_no, ""), status))

    def drift_pattern(self) -> str:
        """A drifting child (监测预警): from a school day `start` its chance of an unexcused
        day grows by `speed` per cent a day, up to 90 %; a child with `back` > 0 comes back
        that many school days after starting to drift. Drawn from attendance_rng, so the
        children are the same in every term and only their attendance differs."""
        r = self.attendance_rng
        start = r.randrange(5, max(6, len(self.school_days) - 10))
        speed = r.choice((4, 8, 15, 30))  # slow … fast
        back = r.choice((0, 0, r.randrange(8, 16)))  # a third recover
        return f"drift{start}:{speed}:{back}"

    def _drift_day(self, i: int, start: int, speed: int, back: int) -> str | None:
        if i < start or (back and i >= start + back):
            return self._noise()
        chance = min(0.9, speed * (i - start + 1) / 100)
        if self.attendance_rng.random() < chance:
            return "旷课" if self.attendance_rng.random() < 0.7 else None  # or not marked at all
        return "迟到" if self.attendance_rng.random() < 0.15 else "出勤"

    def _noise(self) -> str:
        r = self.attendance_rng.random()
        for status, p in PRESENT_NOISE:
            r -= p
            if r < 0:
                return status
        return "出勤"

    def reported_days(self, school: str) -> list[date]:
        days = self.school_days
        if school == self.early_stop:  # stopped reporting a week before the end of term
            days = days[:-5]
        if school == self.gap_school:  # missed one day mid-term: nobody reported
            days = [d for d in days if d != self.school_days[len(self.school_days) // 2]]
        return days


@dataclass
class Planting:
    """What every planting step works on: the generator, the ordinary population's size
    and the children planted so far, each with its plan."""

    g: Generator
    children: int
    planted: list[Child] = field(default_factory=list)

    @property
    def k(self) -> int:
        """The usual number of cases per plan."""
        return self.g.plan_count

    @property
    def towns(self) -> list[str]:
        return list(self.g.villages)

    def child(self, plan: str, **kwargs) -> Child:
        """A new child planted for `plan` (Generator.child's arguments)."""
        c = self.g.child(**kwargs)
        c.plan = plan
        self.planted.append(c)
        return c

    def of_plan(self, *plans: str) -> list[Child]:
        return [p for p in self.planted if p.plan in plans]


# --- rows of the departments' lists ---------------------------------------------------------


def action(g: Generator, c: Child, method: str, result: str, on: date, town: str | None = None) -> None:
    g.rows["quanfan"].append(
        {
            "身份证号": c.number,
            "姓名": c.name,
            "劝返日期": on.isoformat(),
            "劝返方式": method,
            "劝返结果": result,
            "辍学原因": g.rng.choice(["厌学", "外出打工", "学习困难", "因贫"]),
            "责任人": g._name("男"),
            "乡镇代码": town or g.town_of(c.village),
        }
    )


def fupin(g: Generator, c: Child) -> None:
    g.rows["fupin"].append(
        {
            "身份证号": c.number,
            "姓名": c.name,
            "户主身份证号": "",
            "监测类型": g.rng.choice(["脱贫户", "脱贫不稳定户", "边缘易致贫户"]),
            "区划代码": c.village,
            "认定日期": f"{g.term.year - 2}-11-20",
        }
    )


def fupin_row(g: Generator, row: dict) -> None:
    g.rows["fupin"].append(
        {
            "身份证号": row["身份证号"],
            "姓名": row["姓名"],
            "户主身份证号": row["监护人身份证号"],
            "监测类型": g.rng.choice(["脱贫户", "脱贫不稳定户", "边缘易致贫户", "突发严重困难户"]),
            "区划代码": row["户籍地区划代码"],
            "认定日期": f"{g.term.year - 2}-11-20",
        }
    )


def minzheng(g: Generator, row: dict) -> None:
    category = g.rng.choice(["孤儿", "事实无人抚养儿童", "农村留守儿童", "困境儿童", "低保", "特困供养"])
    g.rows["minzheng"].append(
        {
            "身份证号": row["身份证号"],
            "姓名": row["姓名"],
            "保障类别": category,
            "认定日期": f"{g.term.year - 1}-0{g.rng.randint(1, 9)}-15",
        }
    )


def sifa(g: Generator, row: dict) -> None:
    g.rows["sifa"].append(
        {
            "身份证号": row["身份证号"],
            "姓名": row["姓名"],
            "服刑人员姓名": g._name("男"),
            "关系": "父子" if row["性别"] == "男" else "父女",
            "刑期止": f"{g.term.year + 2}-06-30",
        }
    )


def canlian(g: Generator, c: Child, advice: str) -> None:
    canlian_row(g, {"身份证号": c.number, "姓名": c.name}, advice)


def canlian_row(g: Generator, row: dict, advice: str) -> None:
    g.rows["canlian"].append(
        {
            "身份证号": row["身份证号"],
            "姓名": row["姓名"],
            "残疾证号": row["身份证号"] + f"{g.rng.randint(1, 7)}{g.rng.randint(1, 4)}",
            "残疾类别": g.rng.choice(["视力", "听力", "言语", "肢体", "智力", "精神", "多重"]),
            "残疾等级": g.rng.choice(["一级", "二级", "三级", "四级"]),
            "安置建议": advice,
            "评估日期": f"{g.term.year - 1}-04-10",
        }
    )


def renshe(g: Generator, number: str | None, name: str, found: date) -> None:
    g.rows["renshe"].append(
        {
            "身份证号": number,
            "姓名": name,
            "用工单位": g.rng.choice(names.EMPLOYERS),
            "发现日期": found.isoformat(),
            "务工地": g.rng.choice(names.WORK_PLACES),
        }
    )


def approval(g: Generator, c: Child, kind: str, approved: date, until: date | None = None) -> None:
    """An approval in the bureau's 缓免学 register (huanmian)."""
    g.rows["huanmian"].append(
        {
            "身份证号": c.number,
            "姓名": c.name,
            "审批类型": kind,
            "审批日期": approved.isoformat(),
            "有效期至": until.isoformat() if until else "",
            "审批依据": g.rng.choice(["医学证明", "残疾评估", "其他"]),
            "审批单位": f"{g.place.name}教育局",
        }
    )


# --- streams of their own -------------------------------------------------------------------

# The stream the cases of SPEC §3's rules new in issue 29 are drawn from (one stream, in the
# order of their steps), so that they change nobody else's children.
NEW_RULES_STREAM = "spec-new-rules"


def in_stream(name: str, step: Callable[[Planting], None]) -> Callable[[Planting], None]:
    """`step`, drawing from the generator's stream `name` (Generator.own_stream)."""

    def run(p: Planting) -> None:
        with p.g.own_stream(name):
            step(p)

    run.__name__ = step.__name__
    return run


def new_rule_reps(p: Planting) -> int:
    """How many times the new rules' scenarios plant each case."""
    return min(p.k, 4)
