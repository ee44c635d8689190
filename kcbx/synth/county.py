"""A synthetic county: every feed of SPEC §2 for one term, with planted findings.

generate() runs the planting steps - the county's own (below: the ordinary population,
migrants, department lists, persuasion, the spring term's changes, rows to quarantine) and
every scenario's (kcbx/synth/scenarios/, one per finding type) - in their order. writer.py
puts the rows on disk; oracle.py computes the expected findings from those same rows.
"""

from __future__ import annotations

from datetime import date, timedelta

from kcbx import identity
from kcbx.synth import scenarios
from kcbx.synth.generator import (
    DEFAULT_PLACE,
    DRIFTING_SHARE,
    QUARANTINED,
    Child,
    County,
    Generator,
    Planting,
    action,
    fupin_row,
    minzheng,
    sifa,
)
from kcbx.synth.place import Place
from kcbx.terms import Term

__all__ = ["NEW_RULE_PLANS", "QUARANTINED", "County", "generate"]

# The cases of the rules new in issue 29, by plan: the finding each child must give in the
# autumn and the spring term (None: no finding of any kind); their identity numbers are in
# County.controls. Declared by their scenarios (PLANS).
NEW_RULE_PLANS = scenarios.plans()


def generate(
    children: int = 3000, seed: int = 20250901, term: str = "2025-2026-1", place: Place = DEFAULT_PLACE
) -> County:
    """One term of the county at `place` (by default the development county, 长葛市)."""
    g = Generator(children, seed, Term.parse(term), place)
    g.build_places()
    towns = list(g.villages)
    g.early_stop = g.junior[towns[0]]
    g.gap_school = g.primary[towns[-1]]
    p = Planting(g, children)
    steps = [*COUNTY_STEPS, *scenarios.steps()]
    for _, step in sorted(steps, key=lambda s: s[0]):
        step(p)
    for plan in scenarios.controls():
        g.county.controls[plan] = [c.number for c in p.planted if c.plan == plan]
    g.rows["kaoqin"] = []  # written per school from g.county.attendance
    return g.county


def _population(p: Planting) -> None:
    """Ordinary population: huji for everyone aged 0-17, school for the cohort."""
    g = p.g
    for _ in range(p.children):
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


def _migrants(p: Planting) -> None:
    """Migrant children (随迁子女): 学籍 here, 户籍 elsewhere; one without any identity number."""
    g = p.g
    for i in range(p.k):
        c = p.child("migrant", born=g.cohort_birth(), region6=g.place.migrant_origin6)
        c.huji_status = None
        school = g.school_for(c)
        g.attend(school, g.xueji(c, school, with_number=(i > 0)), "normal")


def _department_lists(p: Planting) -> None:
    """民政 and 司法 list a share of the population (the 重点群体 of the indicators)."""
    g = p.g
    for row in g.rng.sample(g.rows["huji"], min(len(g.rows["huji"]), p.children // 15)):
        minzheng(g, row)
    for row in g.rng.sample(g.rows["huji"], min(len(g.rows["huji"]), p.children // 200)):
        sifa(g, row)


def _spring(p: Planting) -> None:
    if p.g.term.number == 2:
        _spring_changes(p)


def _rejections(p: Planting) -> None:
    """Rows that must be quarantined (QUARANTINED): a wrong check character, a future birth
    date, a bad date; and an identity conflict, whose row still loads."""
    g = p.g
    bad = g.child(born=g.cohort_birth())
    g.huji(bad)
    row = g.rows["huji"][-1]
    row["身份证号"] = row["身份证号"][:17] + ("0" if row["身份证号"][17] != "0" else "1")
    future = date(date.today().year + 1, 1, 1)
    row = dict(g.rows["huji"][0])
    row["身份证号"] = identity.make_number(g.place.code6, future, 11)
    row["姓名"] = g._name("男")
    g.rows["huji"].append(row)
    c = g.child(born=g.cohort_birth())
    g.huji(c)
    g.rows["huji"][-1]["出生日期"] = "2015年13月40日"
    # An identity conflict: the 学籍 birth date disagrees with the number; the row still loads.
    conflict = next(r for r in g.rows["xueji"] if r["身份证号"] and r["学籍状态"] == "在读")
    conflict["出生日期"] = (date.fromisoformat(conflict["出生日期"]) + timedelta(days=31)).isoformat()


def _spring_changes(p: Planting) -> None:
    """What changes between the autumn and spring terms of the same school year: one
    out-of-school child is persuaded back and attends, and one ordinary child's household
    enters poverty monitoring (a flag change the SCD2 snapshot must show)."""
    g = p.g
    back = p.of_plan("out_never")[0]
    school = g.school_for(back)
    g.attend(school, g.xueji(back, school, changed=g.school_days[0]), "normal")
    # The school finally records the death of a child whose 户籍 was closed: the
    # registry case is written off.
    dead = next(c for c in p.of_plan("deregistered") if c.huji_status == "死亡")
    for row in g.rows["xueji"]:
        if row["身份证号"] == dead.number:
            row["学籍状态"] = "死亡"
            row["状态变动日期"] = g.school_days[0].isoformat()
    monitored = {r["身份证号"] for r in g.rows["fupin"]}
    newly = next(r for r in g.rows["huji"] if r["身份证号"] not in monitored and r["人员状态"] == "正常")
    fupin_row(g, newly)
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


def _persuasion(p: Planting) -> None:
    """劝返 actions: scripted cases, then 1-3 failed steps for the other out-of-school
    children, and one action for a child no comparison flags (a school's own follow-up)."""
    g = p.g
    out_never = p.of_plan("out_never")
    out_dropped = p.of_plan("out_dropped")
    out_missing = p.of_plan("out_missing")
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
            action(g, c, method, result, g.school_days[day])
    for c in out_never[2:] + out_dropped[2:]:
        for step, method in enumerate(["电话", "家访", "责令限期改正通知书"][: g.rng.randint(1, 3)]):
            action(g, c, method, "未返校", g.school_days[10 + 15 * step])
    if g.term.number == 1:
        row = next(r for r in g.rows["xueji"] if r["学籍状态"] == "在读" and r["身份证号"])
        follow_up = Child(row["身份证号"], row["姓名"], row["性别"], date.fromisoformat(row["出生日期"]), "")
        action(g, follow_up, "电话", "已返校", g.school_days[12], town=g.rows["regions"][1]["区划代码"])
    g.county.changes["cases"] = {script: c.number for script, c in scripted.items()}


COUNTY_STEPS = (
    (0, _population),
    (50, _migrants),
    (150, _department_lists),
    (170, _persuasion),
    (210, _spring),
    (230, _rejections),
)
