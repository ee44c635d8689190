"""A synthetic county: every feed of SPEC §2 for one term, with planted findings.

The generator builds canonical rows (Chinese headers, clean values) per feed; writer.py
puts them on disk and oracle.py computes the expected findings from those same rows.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, timedelta

from kcbx import identity
from kcbx.synth import names
from kcbx.terms import Term

COUNTY6 = "411082"
COUNTY_CODE = COUNTY6 + "000000"
COUNTY_NAME = "长葛市"
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
    rows: dict[str, list[dict]] = field(default_factory=dict)
    # kaoqin is large: stored per school as (day, student_no, class, status) tuples
    attendance: dict[str, list[tuple]] = field(default_factory=dict)
    schools: list[dict] = field(default_factory=list)
    changes: dict = field(default_factory=dict)  # what differs from the previous term
    # planted cases a test checks by name: plan -> identity numbers
    controls: dict[str, list[str]] = field(default_factory=dict)


class Generator:
    def __init__(self, children: int, seed: int, term: Term):
        self.seed = seed
        self.rng = random.Random(seed)
        # Attendance noise has its own stream, so that the people - drawn from self.rng -
        # are the same children in every term generated with the same seed.
        self.attendance_rng = random.Random(f"{seed}-{term.term_id}")
        self.n = children
        self.term = term
        self.used_numbers: set[str] = set()
        self.classes: dict[str, str] = {}
        self.county = County(term)
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
        self.rng = random.Random(f"{self.seed}-{name}")
        self.attendance_rng = random.Random(f"{self.seed}-{name}-{self.term.term_id}")
        try:
            yield
        finally:
            self.rng, self.attendance_rng = main, attendance

    # --- places -------------------------------------------------------------------------
    def build_places(self) -> None:
        n_towns = max(3, min(len(names.TOWNSHIPS), self.n // 600))
        self.rows["regions"].append(
            {"区划代码": COUNTY_CODE, "名称": COUNTY_NAME, "级别": "县", "上级代码": "411000000000"}
        )
        self.villages: dict[str, list[str]] = {}
        for t in range(n_towns):
            town = f"{COUNTY6}{100 + t:03d}000"
            self.rows["regions"].append(
                {"区划代码": town, "名称": names.TOWNSHIPS[t], "级别": "乡镇", "上级代码": COUNTY_CODE}
            )
            self.villages[town] = []
            for v in range(4):
                village = town[:9] + f"{201 + v:03d}"
                vname = self.rng.choice(names.VILLAGE_STEMS) + self.rng.choice(names.VILLAGE_TAILS) + "村"
                self.rows["regions"].append({"区划代码": village, "名称": vname, "级别": "村", "上级代码": town})
                self.villages[town].append(village)
        self.primary: dict[str, str] = {}
        self.junior: dict[str, str] = {}
        code = 2141082001
        for town, tname in zip(self.villages, names.TOWNSHIPS, strict=False):
            for kind, suffix, index in (("小学", "中心小学", self.primary), ("初中", "第一初级中学", self.junior)):
                self._school(str(code), tname.removesuffix("镇").removesuffix("乡") + suffix, kind, town)
                index[town] = str(code)
                code += 1
        first_town = next(iter(self.villages))
        self.special = str(code)
        self._school(self.special, f"{COUNTY_NAME}特殊教育学校", "特殊教育学校", first_town)
        # A teaching point that never sends attendance: school_missing_attendance.
        self.silent = str(code + 1)
        self._school(self.silent, f"{names.TOWNSHIPS[1]}山区教学点", "教学点", list(self.villages)[1])
        # A school outside the county, for transfers out.
        self.outside = "2141099001"
        for day, is_day in self.term.calendar():
            self.rows["calendar"].append({"日期": day.isoformat(), "是否上课日": "是" if is_day else "否"})

    def _school(self, code: str, name: str, kind: str, town: str) -> None:
        row = {"学校标识码": code, "学校名称": name, "办学类型": kind, "乡镇代码": town, "举办者": "公办"}
        self.rows["schools"].append(row)
        self.county.schools.append(row)

    # --- people -------------------------------------------------------------------------
    def _number(self, born: date, sex: str, region6: str = COUNTY6) -> str:
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

    def child(self, born: date | None = None, village: str | None = None, region6: str = COUNTY6) -> Child:
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


def generate(children: int = 3000, seed: int = 20250901, term: str = "2025-2026-1") -> County:
    g = Generator(children, seed, Term.parse(term))
    g.build_places()
    towns = list(g.villages)
    g.early_stop = g.junior[towns[0]]
    g.gap_school = g.primary[towns[-1]]
    k = g.plan_count
    planted: list[Child] = []

    def planted_child(plan: str, **kwargs) -> Child:
        return _plant(g, planted, plan, **kwargs)

    # Ordinary population: huji for everyone aged 0-17, school for the cohort.
    for _ in range(children):
        c = g.child()
        g.huji(c)
        grade = g.term.grade_for(c.born)
        if 1 <= grade <= 9:
            if g.rng.random() < 0.01:  # in 特殊教育学校 by 随班就读 placement, attending
                no = g.xueji(c, g.special, mode="特教学校")
                g.attend(g.special, no, "normal")
            else:
                school = g.school_for(c)
                no = g.xueji(c, school)
                # 监测预警: a few children drift away at different speeds (some come back)
                drifts = g.attendance_rng.random() < DRIFTING_SHARE
                g.attend(school, no, g.drift_pattern() if drifts else "normal")
        elif grade >= 10 and g.rng.random() < 0.5:  # finished grade 9 here
            g.xueji(c, g.junior[g.town_of(c.village)], status="毕业", changed=date(g.term.year, 7, 1))

    # out_of_school: never registered; registered as 辍学; missing persons; cohort edges.
    for _ in range(k):
        c = planted_child("out_never", born=g.cohort_birth())
        g.huji(c)
        c = planted_child("out_dropped", born=g.cohort_birth(g.rng.randint(6, 9)))
        g.huji(c)
        no = g.xueji(c, g.school_for(c), status="辍学", changed=date(g.term.year, 6, 20))
        g.change(no, c, "辍学", date(g.term.year, 6, 20), why=g.rng.choice(["厌学", "外出打工", "学习困难"]))
        c = planted_child("out_missing", born=g.cohort_birth())
        g.huji(c, status="失踪", changed=date(g.term.year - 1, 3, 2))
    youngest_last = g.term.cohort[1]
    g.huji(planted_child("out_edge_in", born=youngest_last))
    g.huji(planted_child("edge_too_young", born=youngest_last + timedelta(days=1)))
    oldest_first = g.term.cohort[0]
    g.huji(planted_child("out_edge_in", born=oldest_first))
    g.huji(planted_child("edge_too_old", born=oldest_first - timedelta(days=1)))

    # 小升初 (SPEC §3): 毕业 at grade 6 is not completion. A child whose only 学籍 row is a
    # primary school's 毕业 never went on to junior school: out of school. Controls: one
    # whose junior school registered it too (enrolled; its two 学籍号 are a duplicate), and
    # one who graduated from grade 9 (completed).
    graduated = date(g.term.year, 7, 1)
    for _ in range(k):
        c = planted_child("out_primary_graduate", born=g.cohort_birth(7))
        g.huji(c)
        g.xueji(c, g.primary[g.town_of(c.village)], status="毕业", grade=6, changed=graduated)
    c = planted_child("primary_graduate_continued", born=g.cohort_birth(7))
    g.huji(c)
    g.xueji(c, g.primary[g.town_of(c.village)], status="毕业", grade=6, changed=graduated)
    junior = g.junior[g.town_of(c.village)]
    g.attend(junior, g.xueji(c, junior, student_no=f"L{g.rng.randrange(10**17):017d}", grade=7), "normal")
    c = planted_child("junior_graduate", born=g.cohort_birth(9))
    g.huji(c)
    g.xueji(c, g.junior[g.town_of(c.village)], status="毕业", grade=9, changed=graduated)
    # 去向核实 (SPEC §3): a child studying with migrant parents elsewhere, confirmed this
    # school year (not out of school), the same confirmed only last school year (still
    # out of school), a confirmed 迁出 (no longer the county's), and a confirmation that
    # contradicts a county 在读 registration (whereabouts_conflict).
    this_year, last_year = date(g.term.year, 9, 20), date(g.term.year - 1, 10, 8)
    for plan, kind, when in (
        ("elsewhere_confirmed", "县外就读", this_year),
        ("abroad_confirmed", "出国出境", this_year),
        ("out_elsewhere_stale", "县外就读", last_year),
        ("moved_confirmed", "迁出", this_year),
    ):
        c = planted_child(plan, born=g.cohort_birth())
        g.huji(c)
        g.whereabouts(c, kind, when)
    c = planted_child("whereabouts_conflict", born=g.cohort_birth())
    g.huji(c)
    school = g.school_for(c)
    g.attend(school, g.xueji(c, school), "normal")
    g.whereabouts(c, "县外就读", this_year)
    # 流入: a child who came from another county's school this term, registered and
    # attending here (a flow, not a finding).
    c = planted_child("transferred_in", born=g.cohort_birth())
    g.huji(c)
    school = g.school_for(c)
    no = g.xueji(c, school, changed=date(g.term.year, 9, 1))
    g.change(no, c, "转入", date(g.term.year, 9, 1), src=g.outside, dst=school, why="随父母返乡")
    g.attend(school, no, "normal")
    c = planted_child("whereabouts_other", born=g.cohort_birth())  # 其他 changes nothing
    g.huji(c)
    g.whereabouts(c, "其他", this_year)
    for plan in (
        "out_primary_graduate",
        "primary_graduate_continued",
        "junior_graduate",
        "elsewhere_confirmed",
        "abroad_confirmed",
        "out_elsewhere_stale",
        "moved_confirmed",
        "whereabouts_conflict",
    ):
        g.county.controls[plan] = [p.number for p in planted if p.plan == plan]

    # Not findings: gone from the county; exempt; enrolled elsewhere.
    for status in ("死亡", "迁出", "注销"):
        g.huji(planted_child("gone", born=g.cohort_birth()), status=status, changed=date(g.term.year - 1, 5, 1))
    for status in ("延缓入学", "免于入学"):
        c = planted_child("exempt", born=g.cohort_birth())
        g.huji(c)
        g.xueji(c, g.special, status=status, mode="送教上门")
    c = planted_child("enrolled_elsewhere", born=g.cohort_birth())
    g.huji(c)
    g.xueji(c, g.outside)

    # Migrant children (随迁子女): 学籍 here, 户籍 elsewhere; one without any identity number.
    for i in range(k):
        c = planted_child("migrant", born=g.cohort_birth(), region6="410102")
        c.huji_status = None
        school = g.school_for(c)
        g.attend(school, g.xueji(c, school, with_number=(i > 0)), "normal")

    # phantom_enrolment: registered 在读, no present day (no rows at all, or only 旷课).
    for i in range(k):
        c = planted_child("phantom", born=g.cohort_birth())
        g.huji(c)
        school = g.school_for(c)
        no = g.xueji(c, school)
        if i % 2:
            g.attend(school, no, "absent")

    # suspected_dropout: attends, then stops; plus runs just below the threshold.
    for i in range(k):
        at_early_stop = i % 3 == 0  # a school that stopped reporting early: runs end at its last day
        c = planted_child("suspected", born=g.cohort_birth(7 if at_early_stop else None))
        g.huji(c)
        school = g.early_stop if at_early_stop else g.school_for(c)
        g.attend(school, g.xueji(c, school), f"stops{3 + i % 4}")
    for run in (1, 2):
        c = planted_child("short_run", born=g.cohort_birth())
        g.huji(c)
        school = g.school_for(c)
        g.attend(school, g.xueji(c, school), f"run{run}")

    # 送教上门 disabled children: excused except visit days; in 残联 list.
    for _ in range(k):
        c = planted_child("sent_teaching", born=g.cohort_birth())
        g.huji(c)
        g.attend(g.special, g.xueji(c, g.special, mode="送教上门"), "visit")
        _canlian(g, c, "送教上门")

    # unregistered_attendance: transferred out but still attending; attending the wrong school;
    # an attendance 学籍号 the registry does not know.
    for i in range(k):
        c = planted_child("unregistered", born=g.cohort_birth())
        g.huji(c)
        school = g.school_for(c)
        if i % 2 == 0:
            no = g.xueji(c, school, status="转出", changed=date(g.term.year, 8, 25))
            g.change(no, c, "转出", date(g.term.year, 8, 25), src=school, dst=g.outside, why="随父母务工")
            g.attend(school, no, "normal")
        else:
            other = g.junior[towns[(towns.index(g.town_of(c.village)) + 1) % len(towns)]]
            no = g.xueji(c, school)
            g.attend(other, no, "normal")
    g.attend(g.primary[towns[0]], f"L{g.rng.randrange(10**17):017d}", "normal")

    # deregistered_enrolled: 户籍 closed, 学籍 still 在读.
    for status in ("死亡", "迁出", "注销"):
        c = planted_child("deregistered", born=g.cohort_birth())
        c.huji_status = status
        g.huji(c, status=status, changed=date(g.term.year, 3, 15))
        school = g.school_for(c)
        no = g.xueji(c, school)
        if status != "死亡":
            g.attend(school, no, "normal")

    # duplicate_registration: one identity number on two 学籍号.
    for i in range(k):
        c = planted_child("duplicate", born=g.cohort_birth(g.rng.randint(1, 6)))
        g.huji(c)
        school = g.school_for(c)
        g.attend(school, g.xueji(c, school), "normal")
        g.xueji(
            c,
            g.junior[towns[-1]] if i % 2 else g.outside,
            status="转出" if i % 2 else "在读",
            student_no=f"L{g.rng.randrange(10**17):017d}",
        )

    # school_missing_attendance: the teaching point's pupils.
    for _ in range(max(3, k)):
        c = planted_child("silent_school", born=g.cohort_birth(g.rng.randint(1, 3)), village=g.villages[towns[1]][0])
        g.huji(c)
        g.xueji(c, g.silent)

    # Vulnerable groups: poverty, disability, civil affairs, justice, child labour.
    dropouts = [p for p in planted if p.plan in ("out_never", "out_dropped", "out_missing", "phantom", "suspected")]
    for c in g.rng.sample(dropouts, min(len(dropouts), k + 1)):
        _fupin(g, c)
    for row in g.rng.sample(g.rows["huji"], min(len(g.rows["huji"]), children // 20)):
        _fupin_row(g, row)
    out = [p for p in planted if p.plan in ("out_never", "out_dropped")]
    for c in out[1 : 1 + max(1, k // 2)]:
        _canlian(g, c, "随班就读")
    for row in g.rng.sample(g.rows["huji"], min(len(g.rows["huji"]), children // 100)):
        _canlian_row(g, row, "随班就读")
    for row in g.rng.sample(g.rows["huji"], min(len(g.rows["huji"]), children // 15)):
        _minzheng(g, row)
    for row in g.rng.sample(g.rows["huji"], min(len(g.rows["huji"]), children // 200)):
        _sifa(g, row)
    found = g.school_days[20]
    for c in [p for p in planted if p.plan == "out_never"][1 : 1 + max(1, k // 2)]:
        _renshe(g, c.number, c.name, found)
    for _ in range(2):  # aged 16-17: legal workers, not child labour
        c = planted_child("worker", born=date(g.term.year - 17, 3, 1) + timedelta(days=g.rng.randrange(300)))
        g.huji(c)
        _renshe(g, c.number, c.name, found)

    _persuasion(g, planted)
    with g.own_stream("spec-new-rules"):
        _new_rule_cases(g, planted)

    if g.term.number == 2:
        _spring_changes(g, planted)

    # Rows that must be quarantined (QUARANTINED): a wrong check character, a future birth
    # date, a bad date.
    bad = g.child(born=g.cohort_birth())
    g.huji(bad)
    row = g.rows["huji"][-1]
    row["身份证号"] = row["身份证号"][:17] + ("0" if row["身份证号"][17] != "0" else "1")
    future = date(date.today().year + 1, 1, 1)
    row = dict(g.rows["huji"][0])
    row["身份证号"] = identity.make_number(COUNTY6, future, 11)
    row["姓名"] = g._name("男")
    g.rows["huji"].append(row)
    c = g.child(born=g.cohort_birth())
    g.huji(c)
    g.rows["huji"][-1]["出生日期"] = "2015年13月40日"
    # An identity conflict: the 学籍 birth date disagrees with the number; the row still loads.
    conflict = next(r for r in g.rows["xueji"] if r["身份证号"] and r["学籍状态"] == "在读")
    conflict["出生日期"] = (date.fromisoformat(conflict["出生日期"]) + timedelta(days=31)).isoformat()

    g.rows["kaoqin"] = []  # written per school from g.county.attendance
    return g.county


def _plant(g: Generator, planted: list[Child], plan: str, **kwargs) -> Child:
    c = g.child(**kwargs)
    c.plan = plan
    planted.append(c)
    return c


def _both(finding: str | None) -> tuple[str | None, str | None]:
    return finding, finding


# The cases of SPEC §3's *new* rules (_new_rule_cases), by plan: the finding each child
# must give in the autumn and the spring term (None: no finding of any kind). Each plan's
# identity numbers are in County.controls.
NEW_RULE_PLANS: dict[str, tuple[str | None, str | None]] = {
    # 送教上门: a home-taught 在读 registration gets no attendance finding, whatever its
    # roll calls; an ordinary registration at the same school with the same roll calls does.
    "home_taught_no_roll_calls": _both(None),
    "home_taught_truant": _both(None),
    "home_taught_trailing": _both(None),
    "phantom_no_roll_calls": _both("phantom_enrolment"),
    "phantom_truant": _both("phantom_enrolment"),
    "suspected_trailing": _both("suspected_dropout"),
    # 缓免学审批: exempt children (学籍 延缓入学/免于入学) and the approvals that do or do
    # not cover the census date.
    "exempt": _both(None),  # the two planted before the rule, now approved
    "exempt_approved": _both(None),
    "exempt_approval_ends_on_census": _both(None),
    "exempt_approval_open_this_year": _both(None),
    "exempt_approval_ended_day_before": _both("exemption_unapproved"),
    "exempt_approval_other_type": _both("exemption_unapproved"),
    "exempt_approval_open_last_year": _both("exemption_unapproved"),
    "exempt_approved_after_census": _both("exemption_unapproved"),
    "exempt_unapproved": _both("exemption_unapproved"),
    "exempt_approval_ends_midyear": (None, "exemption_unapproved"),
    "exempt_unapproved_moved": _both(None),
    "exempt_unapproved_not_county": _both(None),
    "exempt_unapproved_out_of_cohort": _both(None),
    "enrolled_with_approval": _both(None),
    # 部门名单儿童无户籍学籍: listed by a department, unknown to 户籍, 学籍 and 去向核实.
    "listed_unknown_fupin": _both("listed_child_unknown"),  # township from the fupin 区划代码
    "listed_unknown": _both("listed_child_unknown"),  # no township
    "listed_unknown_stale_whereabouts": _both("listed_child_unknown"),
    "listed_outside_registration": _both(None),
    "listed_moved_out": _both(None),
    "listed_whereabouts_other": _both(None),
    "listed_out_of_cohort": _both(None),
    "renshe_unknown": _both("child_labour"),  # 人社 is not one of the four lists
    # for the 公安 回执 (户籍失踪仍到校): a 户籍 失踪 child who is 在读 and attends - enrolled,
    # so no finding, but a 户籍 record the registry contradicts
    "missing_person_attending": _both(None),
}


def _new_rule_cases(g: Generator, planted: list[Child]) -> None:
    """The cases of SPEC §3's *new* rules and their near misses (NEW_RULE_PLANS), drawn
    from streams of their own (Generator.own_stream): the same children in every term, and
    nothing drawn elsewhere changes. Only approvals dated from the term's census date differ
    between terms."""
    reps = min(g.plan_count, 4)
    _home_teaching(g, planted, reps)
    _exemptions(g, planted, reps)
    _listed_children(g, planted, reps)
    for _ in range(2):
        c = _plant(g, planted, "missing_person_attending", born=g.cohort_birth())
        g.huji(c, status="失踪", changed=date(g.term.year - 1, 4, 12))
        school = g.school_for(c)
        g.attend(school, g.xueji(c, school), "normal")
    for plan in NEW_RULE_PLANS:
        g.county.controls[plan] = [p.number for p in planted if p.plan == plan]


def _home_teaching(g: Generator, planted: list[Child], reps: int) -> None:
    """送教上门 pairs: a home-taught child with no roll calls, with only a few 旷课 roll
    calls, or attending and then 旷课 to the end of term, and an ordinary child with the
    same roll calls at the same school (就读方式 empty, 普通, 特教学校 or 随班就读 in turn).
    Every other pair is at 特殊教育学校, the rest at a 小学."""
    for i in range(reps):
        for home, ordinary, pattern in (
            ("home_taught_no_roll_calls", "phantom_no_roll_calls", None),
            ("home_taught_truant", "phantom_truant", f"truant{2 + i % 3}"),
            ("home_taught_trailing", "suspected_trailing", f"trail{4 + i % 3}"),
        ):
            grade = g.rng.randint(1, 6)
            c = _plant(g, planted, home, born=g.cohort_birth(grade))
            near = _plant(g, planted, ordinary, born=g.cohort_birth(grade), village=c.village)
            school = g.special if i % 2 == 0 else g.primary[g.town_of(c.village)]
            for child, mode in ((c, "送教上门"), (near, ("", "普通", "特教学校", "随班就读")[i % 4])):
                g.huji(child)
                no = g.xueji(child, school, mode=mode)
                if pattern:
                    g.attend(school, no, pattern)


def _approval(g: Generator, c: Child, kind: str, approved: date, until: date | None = None) -> None:
    """An approval in the bureau's 缓免学 register (huanmian)."""
    g.rows["huanmian"].append(
        {
            "身份证号": c.number,
            "姓名": c.name,
            "审批类型": kind,
            "审批日期": approved.isoformat(),
            "有效期至": until.isoformat() if until else "",
            "审批依据": g.rng.choice(["医学证明", "残疾评估", "其他"]),
            "审批单位": f"{COUNTY_NAME}教育局",
        }
    )


def _exemptions(g: Generator, planted: list[Child], reps: int) -> None:
    """Exempt children (学籍 延缓入学/免于入学, in turn) and their approvals, around the
    term's census date; an approval's 有效期至 left empty runs to the 31 August ending the
    school year of its 审批日期."""
    y, census = g.term.year, g.term.census_date
    before, year_end = date(y, 6, 20), date(y + 1, 8, 31)  # cover both terms' census dates
    a_year_before = date(census.year - 1, census.month, 1)
    for c in (p for p in planted if p.plan == "exempt"):
        _approval(g, c, next(r["学籍状态"] for r in g.rows["xueji"] if r["身份证号"] == c.number), before, year_end)

    def exempt(plan: str, status: str, at_special: bool, born: date | None = None, huji: str | None = "正常") -> Child:
        c = _plant(g, planted, plan, born=born or g.cohort_birth(1 if status == "延缓入学" else None))
        c.huji_status = huji
        if huji:
            g.huji(c, status=huji, changed=None if huji == "正常" else date(y - 1, 5, 1))
        school = g.outside if huji is None else g.special if at_special else g.school_for(c)
        g.xueji(c, school, status=status, mode="送教上门" if at_special else "", changed=date(y, 8, 25))
        return c

    for i in range(reps):
        status, other = ("延缓入学", "免于入学")[:: 1 if i % 2 == 0 else -1]
        special = i % 2 == 1
        c = exempt("exempt_approved", status, special)
        _approval(g, c, status, before, year_end)
        if i % 2:  # and an earlier approval, long expired
            _approval(g, c, status, date(y - 2, 6, 20), date(y - 1, 8, 31))
        _approval(g, exempt("exempt_approval_ends_on_census", status, special), status, a_year_before, census)
        this_year = date(y, 9, 1) if i % 2 == 0 else census  # runs to (y+1)-08-31
        _approval(g, exempt("exempt_approval_open_this_year", status, special), status, this_year)
        _approval(
            g, exempt("exempt_approval_ended_day_before", status, special), status, a_year_before, census - timedelta(1)
        )
        _approval(g, exempt("exempt_approval_other_type", status, special), other, before, year_end)
        last_year = date(y - 1, 10, 15) if i % 2 == 0 else date(y, 8, 31)  # runs to y-08-31
        _approval(g, exempt("exempt_approval_open_last_year", status, special), status, last_year)
        _approval(
            g,
            exempt("exempt_approved_after_census", status, special),
            status,
            census + timedelta(1),
            date(y + 2, 8, 31),
        )
        exempt("exempt_unapproved", status, special)
        # Covers the autumn census date (30 Sep), not the spring one (31 Mar).
        _approval(g, exempt("exempt_approval_ends_midyear", status, special), status, before, date(y + 1, 1, 31))
        # Near misses, no approval: gone from the county, never the county's, too old.
        exempt("exempt_unapproved_moved", status, special, huji="迁出")
        exempt("exempt_unapproved_not_county", status, special, huji=None)
        exempt("exempt_unapproved_out_of_cohort", status, special, born=g.term.cohort[0] - timedelta(1 + i))
        c = _plant(g, planted, "enrolled_with_approval", born=g.cohort_birth())
        g.huji(c)
        school = g.school_for(c)
        g.attend(school, g.xueji(c, school), "normal")
        _approval(g, c, status, before, year_end)


def _listed_children(g: Generator, planted: list[Child], reps: int) -> None:
    """Children in a department's list (fupin, canlian, minzheng, sifa) that neither 户籍
    nor 学籍 knows, some with a stale 去向核实; and listed children that are known after
    all: a 学籍 row outside the county, a 户籍 迁出, a 去向核实 of 其他 this school year, or
    born outside the cohort. And one only 人社 knows (child labour, not a list here)."""
    y = g.term.year
    first, last = g.term.cohort
    this_year, last_year = (date(y, 9, 1), date(y, 9, 20)), (date(y - 1, 10, 8), date(y, 8, 31))

    def listed(plan: str, lists: str, born: date | None = None) -> Child:
        c = _plant(g, planted, plan, born=born or g.cohort_birth())
        c.huji_status = None
        for name in lists.split():
            if name in ("fupin", "fupin_no_code"):
                _fupin(g, c)
                if name == "fupin_no_code":
                    g.rows["fupin"][-1]["区划代码"] = ""
            elif name == "canlian":
                _canlian(g, c, "随班就读")
            elif name == "minzheng":
                _minzheng(g, {"身份证号": c.number, "姓名": c.name})
            else:
                _sifa(g, {"身份证号": c.number, "姓名": c.name, "性别": c.sex})
        return c

    for i in range(reps):
        listed("listed_unknown_fupin", "fupin" if i % 2 == 0 else "minzheng fupin")
    for i, lists in enumerate(("canlian", "sifa", "fupin_no_code", "minzheng", "fupin_no_code sifa")):
        listed("listed_unknown", lists, born=(first, last)[i] if i < 2 else None)  # the cohort's edges
    for i in range(reps):
        c = listed("listed_unknown_stale_whereabouts", ("fupin", "minzheng")[i % 2])
        g.whereabouts(c, ("县外就读", "其他")[i % 2], last_year[i % 2])
        c = listed("listed_outside_registration", ("fupin", "canlian")[i % 2])
        g.xueji(c, g.outside, status=("在读", "转出")[i % 2])
        c = listed("listed_moved_out", ("canlian", "fupin")[i % 2])
        c.huji_status = "迁出"
        g.huji(c, status="迁出", changed=date(y - 1, 5, 1))
        c = listed("listed_whereabouts_other", ("sifa", "minzheng")[i % 2])
        g.whereabouts(c, "其他", this_year[i % 2])
        listed(
            "listed_out_of_cohort",
            ("fupin", "minzheng")[i % 2],
            born=(first - timedelta(1), last + timedelta(1))[i % 2],
        )
    for _ in range(min(reps, 2)):
        c = _plant(g, planted, "renshe_unknown", born=g.cohort_birth(g.rng.randint(5, 8)))
        c.huji_status = None
        _renshe(g, c.number, c.name, g.school_days[20])


def _spring_changes(g: Generator, planted: list[Child]) -> None:
    """What changes between the autumn and spring terms of the same school year: one
    out-of-school child is persuaded back and attends, and one ordinary child's household
    enters poverty monitoring (a flag change the SCD2 snapshot must show)."""
    back = next(p for p in planted if p.plan == "out_never")
    school = g.school_for(back)
    g.attend(school, g.xueji(back, school, changed=g.school_days[0]), "normal")
    # The school finally records the death of a child whose 户籍 was closed: the
    # registry case is written off.
    dead = next(p for p in planted if p.plan == "deregistered" and p.huji_status == "死亡")
    for row in g.rows["xueji"]:
        if row["身份证号"] == dead.number:
            row["学籍状态"] = "死亡"
            row["状态变动日期"] = g.school_days[0].isoformat()
    monitored = {r["身份证号"] for r in g.rows["fupin"]}
    newly = next(r for r in g.rows["huji"] if r["身份证号"] not in monitored and r["人员状态"] == "正常")
    _fupin_row(g, newly)
    g.rows["fupin"][-1]["监测类型"] = "突发严重困难户"
    g.county.changes |= {
        "returned": back.number,
        "newly_monitored": newly["身份证号"],
        "registry_death": dead.number,
    }


# 劝返 scripts: (method, result, index into the term's school days) per term. Each
# exercises one path of the case ledger (int_case_terms): closing on return,
# escalating through the four steps, failing to escalate, placement, a return the
# registry has not caught up with yet, write-off and a new episode after it.
CASE_SCRIPTS = {
    "returned": {1: [("电话", "未返校", 5), ("家访", "未返校", 20)], 2: [("家访", "已返校", 0)]},
    "escalated": {
        1: [("电话", "未返校", 5), ("家访", "未返校", 15), ("联合劝返", "未返校", 25)],
        2: [("责令限期改正通知书", "未返校", 3), ("行政处罚", "未返校", -4)],
    },
    "unescalated": {
        1: [("电话", "未返校", 30)],
        2: [("家访", "未返校", 10), ("家访", "未返校", 40), ("电话", "未返校", -3)],
    },
    "placed": {2: [("家访", "送教上门", -2)]},
    "returning": {2: [("联合劝返", "已返校", -2)]},
    "written_off": {1: [("家访", "核销", 40)]},
}


def _persuasion(g: Generator, planted: list[Child]) -> None:
    """劝返 actions: scripted cases, then 1-3 failed steps for the other out-of-school
    children, and one action for a child no comparison flags (a school's own follow-up)."""
    out_never = [p for p in planted if p.plan == "out_never"]
    out_dropped = [p for p in planted if p.plan == "out_dropped"]
    out_missing = [p for p in planted if p.plan == "out_missing"]
    scripted = {
        "returned": out_never[0],
        "placed": out_never[1],
        "escalated": out_dropped[0],
        "unescalated": out_dropped[1],
        "written_off": out_missing[0],
        "returning": out_missing[1],
    }
    for script, c in scripted.items():
        for method, result, day in CASE_SCRIPTS[script].get(g.term.number, []):
            _action(g, c, method, result, g.school_days[day])
    for c in out_never[2:] + out_dropped[2:]:
        for step, method in enumerate(["电话", "家访", "责令限期改正通知书"][: g.rng.randint(1, 3)]):
            _action(g, c, method, "未返校", g.school_days[10 + 15 * step])
    if g.term.number == 1:
        row = next(r for r in g.rows["xueji"] if r["学籍状态"] == "在读" and r["身份证号"])
        follow_up = Child(row["身份证号"], row["姓名"], row["性别"], date.fromisoformat(row["出生日期"]), "")
        _action(g, follow_up, "电话", "已返校", g.school_days[12], town=g.rows["regions"][1]["区划代码"])
    g.county.changes["cases"] = {script: c.number for script, c in scripted.items()}


def _action(g: Generator, c: Child, method: str, result: str, on: date, town: str | None = None) -> None:
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


def _fupin(g: Generator, c: Child) -> None:
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


def _fupin_row(g: Generator, row: dict) -> None:
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


def _minzheng(g: Generator, row: dict) -> None:
    category = g.rng.choice(["孤儿", "事实无人抚养儿童", "农村留守儿童", "困境儿童", "低保", "特困供养"])
    g.rows["minzheng"].append(
        {
            "身份证号": row["身份证号"],
            "姓名": row["姓名"],
            "保障类别": category,
            "认定日期": f"{g.term.year - 1}-0{g.rng.randint(1, 9)}-15",
        }
    )


def _sifa(g: Generator, row: dict) -> None:
    g.rows["sifa"].append(
        {
            "身份证号": row["身份证号"],
            "姓名": row["姓名"],
            "服刑人员姓名": g._name("男"),
            "关系": "父子" if row["性别"] == "男" else "父女",
            "刑期止": f"{g.term.year + 2}-06-30",
        }
    )


def _canlian(g: Generator, c: Child, advice: str) -> None:
    _canlian_row(g, {"身份证号": c.number, "姓名": c.name}, advice)


def _canlian_row(g: Generator, row: dict, advice: str) -> None:
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


def _renshe(g: Generator, number: str | None, name: str, found: date) -> None:
    g.rows["renshe"].append(
        {
            "身份证号": number,
            "姓名": name,
            "用工单位": g.rng.choice(names.EMPLOYERS),
            "发现日期": found.isoformat(),
            "务工地": g.rng.choice(names.WORK_PLACES),
        }
    )
